/**
 * Health-check probes that touch the network (spec 2.4, 12.4.4). Each check is its own
 * connection, closed afterwards; the HTTP request carries the headers ALB sends.
 */
import http from 'node:http';
import http2 from 'node:http2';
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

/**
 * ALB HTTP check on an HTTP2 target group: `GET <path>` over HTTP/2 (TLS with ALPN `h2` when
 * the check is HTTPS, cleartext with prior knowledge otherwise), `user-agent:
 * ELB-HealthChecker/2.0`; success is a `:status` the matcher takes. The group says its targets
 * speak HTTP/2, and an h2c-only target would fail an HTTP/1.1 check; how AWS checks HTTP2
 * groups is not documented (UNCONFIRMED).
 */
export function http2Probe(options: Omit<HttpProbeOptions, 'preamble' | 'hostHeader'>): Probe {
  return (target, signal) =>
    new Promise<ProbeResult>((resolve) => {
      const authority = net.isIPv6(target.id) ? `[${target.id}]:${target.port}` : `${target.id}:${target.port}`;
      const secure = options.tls !== undefined;
      let settled = false;
      const finish = (result: ProbeResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(result);
        session.destroy();
      };
      const onAbort = () => finish({ ok: false, failure: 'timeout' });
      const session = http2.connect(`${secure ? 'https' : 'http'}://${authority}`, {
        // Our own socket: no SNI towards targets (spec 12.2).
        createConnection: () =>
          secure ? tls.connect({ ...options.tls, host: target.id, port: target.port, ALPNProtocols: ['h2'] }) : net.connect({ host: target.id, port: target.port }),
      });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const failWith = (err: NodeJS.ErrnoException) => {
        let root = err;
        while (root.cause instanceof Error) root = root.cause as NodeJS.ErrnoException;
        finish({ ok: false, failure: 'failed', detail: root.code ?? root.message });
      };
      session.on('error', failWith);
      const stream = session.request({ ':method': 'GET', ':path': options.path, ':authority': authority, 'user-agent': options.userAgent ?? 'ELB-HealthChecker/2.0' });
      stream.on('response', (headers) => {
        const statusCode = Number(headers[':status'] ?? 0);
        finish(options.matcher(statusCode) ? { ok: true, statusCode } : { ok: false, failure: 'code', statusCode });
      });
      stream.on('error', failWith);
      stream.on('close', () => finish({ ok: false, failure: 'failed', detail: stream.rstCode ? `stream reset (HTTP/2 error code ${stream.rstCode})` : 'no response' }));
    });
}

export interface GrpcProbeOptions {
  /** `/package.service/method` (default on GRPC groups: `/AWS.ALB/healthcheck`). */
  readonly path: string;
  /** Over gRPC status codes (`Matcher.GrpcCode`). */
  readonly matcher: Matcher;
  /** HTTPS groups: TLS with these options (ALPN `h2` is added); otherwise cleartext HTTP/2 with prior knowledge. */
  readonly tls?: tls.ConnectionOptions;
  /** Default `ELB-HealthChecker/2.0`. */
  readonly userAgent?: string;
}

/** An empty protobuf message, length-prefixed as gRPC frames it: uncompressed, 0 bytes. */
const EMPTY_GRPC_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

/**
 * ALB gRPC check (spec 12.4.4): a unary call over HTTP/2 — `POST <path>` with `content-type:
 * application/grpc`, `te: trailers`, `user-agent: ELB-HealthChecker/2.0` and an empty message
 * (AWS documents none of the request's details; UNCONFIRMED). Success is a `grpc-status` (from
 * the trailers, or the headers of a trailers-only response) that the matcher takes; a wrong
 * one is `failure: 'code'` with that status (`Target.ResponseCodeMismatch`, "Health checks
 * failed with these codes: [14]"). An HTTP status other than 200, no `grpc-status`, or a
 * connection, TLS or HTTP/2 error is `failure: 'failed'` with a detail
 * (`Target.FailedHealthChecks`, as spec 2.4 classifies malformed responses).
 */
export function grpcProbe(options: GrpcProbeOptions): Probe {
  return (target, signal) =>
    new Promise<ProbeResult>((resolve) => {
      const authority = net.isIPv6(target.id) ? `[${target.id}]:${target.port}` : `${target.id}:${target.port}`;
      const secure = options.tls !== undefined;
      let settled = false;
      let session: http2.ClientHttp2Session | undefined;
      const finish = (result: ProbeResult, graceful = false) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(result);
        if (graceful) session?.close();
        else session?.destroy();
      };
      const onAbort = () => finish({ ok: false, failure: 'timeout' });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const fail = (detail: string) => finish({ ok: false, failure: 'failed', detail });
      // A stream cancelled by its session's end carries the session's error (ECONNREFUSED…) as its cause.
      const failWith = (err: NodeJS.ErrnoException) => {
        let root = err;
        while (root.cause instanceof Error) root = root.cause as NodeJS.ErrnoException;
        fail(root.code ?? root.message);
      };
      session = http2.connect(`${secure ? 'https' : 'http'}://${authority}`, {
        // Our own socket: http2.connect would send the host as SNI, and ALB sends none (spec 12.2).
        createConnection: () =>
          secure
            ? tls.connect({ ...options.tls, host: target.id, port: target.port, ALPNProtocols: ['h2'] })
            : net.connect({ host: target.id, port: target.port }),
      });
      session.on('error', failWith);
      const stream = session.request(
        {
          ':method': 'POST',
          ':path': options.path,
          ':authority': authority,
          'content-type': 'application/grpc',
          te: 'trailers',
          'user-agent': options.userAgent ?? 'ELB-HealthChecker/2.0',
        },
        { endStream: false },
      );
      const judge = (grpcStatus: string | string[] | undefined) => {
        const text = Array.isArray(grpcStatus) ? grpcStatus[0] : grpcStatus;
        if (text === undefined || !/^\d+$/.test(text)) return fail(text === undefined ? 'no grpc-status in the response' : `grpc-status ${JSON.stringify(text)} is not a status code`);
        const code = Number(text);
        finish(options.matcher(code) ? { ok: true, statusCode: code } : { ok: false, failure: 'code', statusCode: code }, true);
      };
      stream.on('response', (headers, flags) => {
        const status = headers[':status'];
        if (status !== 200) return fail(`HTTP ${status}`);
        // A trailers-only response: grpc-status in the headers, and the stream ends with them.
        if (headers['grpc-status'] !== undefined || (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) judge(headers['grpc-status']);
      });
      stream.on('trailers', (trailers) => judge(trailers['grpc-status']));
      stream.on('error', failWith);
      stream.on('close', () => fail(stream.rstCode ? `stream reset (HTTP/2 error code ${stream.rstCode})` : 'no grpc-status in the response'));
      stream.resume();
      stream.end(EMPTY_GRPC_MESSAGE);
    });
}
