/**
 * Health-check probes that touch the network (spec 2.4). Each check is its own connection,
 * closed afterwards; the HTTP request carries the headers ALB sends.
 */
import http from 'node:http';
import type { Matcher } from '../config/matcher.ts';
import type { ProbeResult } from './health.ts';
import type { Probe } from './health-checker.ts';

export interface HttpProbeOptions {
  readonly path: string;
  readonly matcher: Matcher;
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
        agent: false,
        signal,
        headers: {
          Host: `${target.id}:${target.port}`,
          'User-Agent': 'ELB-HealthChecker/2.0',
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
