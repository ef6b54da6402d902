/**
 * Kubernetes container probes (readiness, liveness): HTTP GET succeeds on 200–399 within the
 * timeout; TCP succeeds when the connection opens. Each probe is one connection.
 */
import http from 'node:http';
import net from 'node:net';
import type { PodProbeConfig } from '../config/schema.ts';

export type PodProber = (probe: PodProbeConfig, ip: string, port: number, signal: AbortSignal) => Promise<boolean>;

export const networkProber: PodProber = (probe, ip, podPort, signal) =>
  new Promise<boolean>((resolve) => {
    if (probe.tcpSocket !== undefined) {
      const socket = net.connect({ host: ip, port: probe.tcpSocket.port ?? podPort });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      signal.addEventListener('abort', () => done(false), { once: true });
      return;
    }
    const req = http.request({
      host: ip,
      port: probe.httpGet?.port ?? podPort,
      path: probe.httpGet?.path ?? '/',
      agent: false,
      signal,
      headers: { 'User-Agent': 'kube-probe/local-elb', Connection: 'close' },
    });
    req.once('response', (res) => {
      const code = res.statusCode ?? 0;
      res.destroy();
      resolve(code >= 200 && code < 400);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
