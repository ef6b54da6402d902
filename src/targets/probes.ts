/**
 * Health-check probes that touch the network (spec 2.4). Each check is its own connection,
 * closed afterwards; the HTTP request carries the headers ALB sends.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Matcher } from '../config/matcher.ts';
import type { ProbeResult } from './health.ts';
import type { Probe } from './health-checker.ts';

export interface HttpProbeOptions {
  readonly path: string;
  readonly matcher: Matcher;
  /**
   * The Host header. ALB: the target's address and health-check port (the default). NLB: the
   * load balancer node's address and the listener port (spec 2.4), known only once it listens.
   */
  readonly hostHeader?: (target: { id: string; port: number }) => string;
  /** Bytes written first on the connection (an NLB's Proxy Protocol v2 LOCAL header). */
  readonly preamble?: () => Buffer | undefined;
  /** Default `ELB-HealthChecker/2.0`; a pod's probes say `kube-probe/…`. */
  readonly userAgent?: string;
  /** HTTPS checks: TLS over the connection (after the preamble), with these options. */
  readonly tls?: tls.ConnectionOptions;
}

/**
 * ALB HTTP check: `GET <path>` with `Host: <target ip>:<health check port>` and
 * `User-Agent: ELB-HealthChecker/2.0`. Success is a status line and headers within the
 * timeout with a matching code; the body is not read.
 */
export function httpProbe(options: HttpProbeOptions): Probe {
  return (target, signal) =>
    new Promise<ProbeResult>((resolve) => {
      const req = http.request({
        host: target.id,
        port: target.port,
        path: options.path,
        method: 'GET',
        signal,
        // No agent: with one (even `agent: false`) Node ignores createConnection, and the
        // preamble would never be written. Each check is its own connection anyway.
        createConnection: () => {
          const socket = net.connect({ host: target.id, port: target.port });
          const preamble = options.preamble?.();
          if (preamble !== undefined) socket.write(preamble);
          return options.tls === undefined ? socket : tls.connect({ ...options.tls, socket });
        },
        headers: {
          Host: options.hostHeader?.(target) ?? `${target.id}:${target.port}`,
          'User-Agent': options.userAgent ?? 'ELB-HealthChecker/2.0',
          Connection: 'close',
        },
      });
      req.on('response', (res) => {
        const statusCode = res.statusCode ?? 0;
        resolve(options.matcher(statusCode) ? { ok: true, statusCode } : { ok: false, failure: 'code', statusCode });
        res.destroy();
        req.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        resolve(signal.aborted ? { ok: false, failure: 'timeout' } : { ok: false, failure: 'failed', detail: err.code ?? err.message });
      });
      req.end();
    });
}

/**
 * NLB TCP check (spec 2.4): the handshake completes within the timeout; the connection is then
 * closed. With Proxy Protocol v2 on, the LOCAL header is sent first, as NLB does.
 */
export function tcpProbe(options: { readonly preamble?: () => Buffer | undefined } = {}): Probe {
  return (target, signal) =>
    new Promise<ProbeResult>((resolve) => {
      const socket = net.connect({ host: target.id, port: target.port });
      const onAbort = () => {
        socket.destroy();
        resolve({ ok: false, failure: 'timeout' });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        const preamble = options.preamble?.();
        if (preamble !== undefined) socket.end(preamble);
        else socket.end();
        socket.destroySoon();
        resolve({ ok: true });
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve({ ok: false, failure: 'failed', detail: err.code ?? err.message });
      });
    });
}
