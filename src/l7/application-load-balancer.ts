/**
 * An Application Load Balancer: HTTP listeners on this machine, rules, actions (forward,
 * fixed-response, redirect), forwarding through target groups, and the responses ALB makes
 * itself (spec 5, 6, 7). Target groups are shared with the caller; this class never decides
 * health or fail-open, it asks the group for a lease.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostForUrl } from '../core/addresses.ts';
import { realClock, type Clock } from '../core/clock.ts';
import { bindListener } from '../core/listen.ts';
import { ElbError, ErrorCodes, isElbError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { ElbMetrics } from '../core/metrics.ts';
import { mathRandom, type Random } from '../core/random.ts';
import { applicationLoadBalancerAttributes, resolveAttributes } from '../config/attributes.ts';
import type { ActionConfig, ListenerConfig, LoadBalancerConfig } from '../config/schema.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import type { Lease } from '../targets/target.ts';
import { isTargetConnectionError, rawErrorResponse, sendErrorPage, statusForError } from './error-responses.ts';
import { forward, TargetPools } from './forward.ts';
import { plainIp, upstreamHeaders, type ForwardHeaderOptions } from './headers.ts';
import type { RequestRecord } from './request-record.ts';
import { compileRules, type CompiledRules, type RequestFacts } from './rules.ts';

export interface ApplicationLoadBalancerOptions {
  readonly config: LoadBalancerConfig;
  /** Every target group a listener action may name, by name. */
  readonly targetGroups: ReadonlyMap<string, TargetGroup>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: ElbMetrics;
  /** Weighted forward actions draw from this. */
  readonly random?: Random;
}

interface Settings {
  idleTimeoutMs: number;
  clientKeepAliveMs: number;
  headers: Omit<ForwardHeaderOptions, 'listenerPort'>;
}

interface SocketInfo {
  readonly connectedAtMs: number;
  bytesRead: number;
  bytesWritten: number;
  active: number;
}

/** Request-URI and header limits (spec 6.4): the request line may be 16K, all headers 64K. */
const MAX_HEADER_BYTES = 64 * 1024;

export class ApplicationLoadBalancer {
  readonly name: string;
  readonly config: LoadBalancerConfig;
  readonly #groups: ReadonlyMap<string, TargetGroup>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ElbMetrics | undefined;
  readonly #random: Random;
  readonly #pools: TargetPools;
  readonly #listeners: Listener[];
  readonly #observers = new Set<(record: RequestRecord) => void>();
  readonly #unsubscribe: Array<() => void> = [];
  #attributes: Record<string, string>;
  #settings: Settings;

  constructor(options: ApplicationLoadBalancerOptions) {
    this.name = options.config.name;
    this.config = options.config;
    this.#groups = options.targetGroups;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? silentLogger()).child({ loadBalancer: this.name });
    this.#metrics = options.metrics;
    this.#random = options.random ?? mathRandom;
    this.#attributes = { ...options.config.attributes };
    this.#settings = settingsFrom(this.#attributes);
    this.#pools = new TargetPools(this.#settings.idleTimeoutMs);
    for (const name of this.targetGroupNames()) {
      const group = this.#group(name);
      this.#unsubscribe.push(group.on((e) => e.type === 'target.removed' && this.#pools.drop(e.target.key)));
    }
    this.#listeners = options.config.listeners.map((l) => new Listener(this, l));
  }

  /** Names of the target groups this load balancer's listeners forward to. */
  targetGroupNames(): string[] {
    const names = new Set<string>();
    for (const l of this.config.listeners) {
      for (const a of [...l.defaultActions, ...l.rules.flatMap((r) => r.actions)]) {
        if (a.type !== 'forward') continue;
        if (a.targetGroupName) names.add(a.targetGroupName);
        for (const t of a.forwardConfig?.targetGroups ?? []) names.add(t.targetGroupName);
      }
    }
    return [...names];
  }

  /** Binds every listener; rejects with `ELB_ERR_LISTEN_FAILED` naming the address. */
  async start(): Promise<void> {
    try {
      for (const l of this.#listeners) await l.listen();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** `http://address:port` of listener `index` (after start). */
  url(index = 0): string {
    const l = this.#listeners[index];
    if (l === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `load balancer ${this.name} has no listener ${index}`);
    return l.url;
  }

  /** The bound ports, in listener order (after start). */
  get ports(): number[] {
    return this.#listeners.map((l) => l.port);
  }

  /** Receives a record for every request once it is over. Returns the unsubscribe function. */
  onRequest(observer: (record: RequestRecord) => void): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  attributes(): Readonly<Record<string, string>> {
    return { ...this.#attributes };
  }

  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const resolved = resolveAttributes(applicationLoadBalancerAttributes, changes, 'attributes', this.#attributes);
    if (!resolved.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, resolved.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.#attributes = resolved.attributes;
    this.#settings = settingsFrom(this.#attributes);
    this.#pools.idleTimeoutMs = this.#settings.idleTimeoutMs;
    for (const l of this.#listeners) l.applySettings();
    return this.attributes();
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs`, then
   * closes every client and target connection.
   */
  async close(graceMs = 0): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    await Promise.all(this.#listeners.map((l) => l.close(graceMs)));
    await this.#pools.close();
  }

  // Internal API for Listener (same module).
  get settings(): Settings {
    return this.#settings;
  }
  get log(): Logger {
    return this.#log;
  }
  get clock(): Clock {
    return this.#clock;
  }
  get metrics(): ElbMetrics | undefined {
    return this.#metrics;
  }
  get pools(): TargetPools {
    return this.#pools;
  }

  /** Picks the target group of a forward action (weighted when several, spec 3.4). */
  groupFor(action: Extract<ActionConfig, { type: 'forward' }>): TargetGroup {
    if (action.targetGroupName !== undefined) return this.#group(action.targetGroupName);
    const weighted = action.forwardConfig!.targetGroups;
    const total = weighted.reduce((s, t) => s + t.weight, 0);
    if (total === 0) return this.#group(weighted[0]!.targetGroupName);
    let x = this.#random.next() * total;
    for (const t of weighted) {
      x -= t.weight;
      if (x < 0) return this.#group(t.targetGroupName);
    }
    return this.#group(weighted.at(-1)!.targetGroupName);
  }

  emit(record: RequestRecord): void {
    const m = this.#metrics;
    if (m !== undefined) {
      const lbm = m.loadBalancerCounters(this.name);
      if (record.producedBy === 'elb') lbm.elbResponse(record.elbStatusCode);
      else if (record.targetStatusCode !== undefined && record.targetGroup !== undefined) m.targetGroupCounters(this.name, record.targetGroup).targetResponse(record.targetStatusCode);
      lbm.processedBytes.inc(record.receivedBytes + record.sentBytes);
    }
    for (const o of this.#observers) {
      try {
        o(record);
      } catch (err) {
        this.#log.error({ err }, 'request observer threw');
      }
    }
  }

  #group(name: string): TargetGroup {
    const group = this.#groups.get(name);
    if (group === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `target group ${name} is not defined`);
    return group;
  }
}

function settingsFrom(a: Readonly<Record<string, string>>): Settings {
  return {
    idleTimeoutMs: Number(a['idle_timeout.timeout_seconds']) * 1000,
    clientKeepAliveMs: Number(a['client_keep_alive.seconds']) * 1000,
    headers: {
      xffMode: a['routing.http.xff_header_processing.mode'] as ForwardHeaderOptions['xffMode'],
      xffClientPort: a['routing.http.xff_client_port.enabled'] === 'true',
      preserveHost: a['routing.http.preserve_host_header.enabled'] === 'true',
      protocol: 'http',
    },
  };
}

/** Transfer codings ALB accepts (spec 7.1: others are 501). */
const ACCEPTED_TRANSFER_ENCODINGS = new Set(['chunked', 'identity']);

class Listener {
  readonly #lb: ApplicationLoadBalancer;
  readonly #config: ListenerConfig;
  readonly #rules: CompiledRules;
  readonly #server: http.Server;
  readonly #sockets = new Map<Socket, SocketInfo>();
  #port = 0;

  constructor(lb: ApplicationLoadBalancer, config: ListenerConfig) {
    this.#lb = lb;
    this.#config = config;
    this.#rules = compileRules(config);
    // Node checks header timeouts every connectionsCheckingInterval (30 s by default): check each
    // second so a 408 comes when the idle timeout ends, not up to 30 s later.
    this.#server = http.createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0, joinDuplicateHeaders: false, connectionsCheckingInterval: 1000 },
      (req, res) => this.#onRequest(req, res),
    );
    this.applySettings();
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.set(socket, { connectedAtMs: lb.clock.now(), bytesRead: 0, bytesWritten: 0, active: 0 });
      const lbm = lb.metrics?.loadBalancerCounters(lb.name);
      lbm?.newConnections.inc();
      lbm?.activeConnections.inc();
      socket.once('close', () => {
        this.#sockets.delete(socket);
        lbm?.activeConnections.dec();
      });
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket) => this.#onClientError(err, socket as Socket));
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${hostForUrl(this.#config.address)}:${this.#port}`;
  }

  applySettings(): void {
    const { idleTimeoutMs } = this.#lb.settings;
    this.#server.keepAliveTimeout = idleTimeoutMs;
    this.#server.headersTimeout = idleTimeoutMs;
  }

  async listen(): Promise<void> {
    const { port, address } = this.#config;
    const where = `load balancer ${this.#lb.name} on ${address}:${port}`;
    await bindListener(this.#server, (done) => this.#server.listen(port, address, done), where, this.#lb.log);
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#lb.log.info({ event: 'listener.started', port: this.#port, address }, `listener on ${this.url}`);
  }

  async close(graceMs: number): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while ([...this.#sockets.values()].some((s) => s.active > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      this.#server.closeIdleConnections();
    }
    this.#server.closeAllConnections();
    await closed;
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_INVALID_TRANSFER_ENCODING' ? 501 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    this.#lb.metrics?.loadBalancerCounters(this.#lb.name).elbResponse(status);
    socket.end(rawErrorResponse(status));
    socket.destroySoon?.();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const lb = this.#lb;
    const socket = req.socket;
    const info = this.#sockets.get(socket) ?? { connectedAtMs: lb.clock.now(), bytesRead: 0, bytesWritten: 0, active: 0 };
    info.active++;
    const arrivedAt = performance.now();
    const requestCreationTimeMs = Date.now();
    const client = { ip: plainIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    const method = req.method ?? 'GET';
    if (lb.clock.now() - info.connectedAtMs >= lb.settings.clientKeepAliveMs) res.shouldKeepAlive = false;

    let path = req.url ?? '/';
    let hostOverride: string | undefined;
    let bad = false;
    if (!path.startsWith('/')) {
      if (/^https?:\/\//i.test(path)) {
        try {
          const u = new URL(path);
          hostOverride = u.host;
          path = `${u.pathname}${u.search}`;
        } catch {
          bad = true;
        }
      } else if (!(method === 'OPTIONS' && path === '*')) bad = true;
    }
    const firstHost = hostOverride ?? req.headers.host ?? '';
    const base = {
      loadBalancer: lb.name,
      listenerPort: this.#port,
      client,
      method,
      url: `http://${firstHost || `${this.#config.address}:${this.#port}`}${path}`,
      httpVersion: req.httpVersion,
      userAgent: req.headers['user-agent'],
      requestCreationTimeMs,
    };

    const done = (fields: Partial<RequestRecord> & Pick<RequestRecord, 'elbStatusCode' | 'producedBy' | 'actionsExecuted'>) => {
      info.active--;
      const receivedBytes = socket.bytesRead - info.bytesRead;
      const sentBytes = socket.bytesWritten - info.bytesWritten;
      info.bytesRead = socket.bytesRead;
      info.bytesWritten = socket.bytesWritten;
      lb.emit({
        ...base,
        requestProcessingMs: -1,
        targetProcessingMs: -1,
        responseProcessingMs: -1,
        receivedBytes,
        sentBytes,
        timeMs: Date.now(),
        ...fields,
      });
    };
    const elbAnswer = (status: number, errorCode?: string, extra: Partial<RequestRecord> = {}) => {
      sendErrorPage(res, status, { close: status === 400 || status === 463 });
      const finish = () => done({ elbStatusCode: status, producedBy: 'elb', actionsExecuted: [], errorCode, ...extra });
      if (res.writableFinished) finish();
      else res.once('close', finish);
    };

    if (bad) return elbAnswer(400, 'BadUri');
    // llhttp accepts `GET /` (HTTP/0.9) and `HTTP/2.0` request lines; ALB speaks HTTP/1.x here (spec 7.1).
    if (req.httpVersionMajor !== 1) return elbAnswer(req.httpVersionMajor === 0 ? 400 : 505, 'BadHttpVersion');
    if (method === 'TRACE') return elbAnswer(405);
    const te = req.headers['transfer-encoding'];
    if (te !== undefined && !te.split(',').every((t) => ACCEPTED_TRANSFER_ENCODINGS.has(t.trim().toLowerCase()))) return elbAnswer(501);

    const match = this.#rules.onlyDefault ?? this.#rules.match(requestFacts(method, path, firstHost, req.rawHeaders, client.ip));
    const lbm = lb.metrics?.loadBalancerCounters(lb.name);
    if (match.evaluations > 0) lbm?.ruleEvaluations.inc(match.evaluations);
    const action = match.action;

    if (action.type === 'fixed-response') {
      const c = action.fixedResponseConfig;
      const body = c.messageBody ?? '';
      res.writeHead(Number(c.statusCode), {
        Server: 'awselb/2.0',
        'Content-Type': c.contentType ?? 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(method === 'HEAD' ? undefined : body);
      lbm?.fixedResponses.inc();
      return void res.once('close', () => done({ elbStatusCode: Number(c.statusCode), producedBy: 'elb', actionsExecuted: ['fixed-response'], matchedRulePriority: match.priority }));
    }
    if (action.type === 'redirect') {
      const location = redirectLocation(action.redirectConfig, { protocol: 'http', host: firstHost, port: this.#port, path });
      res.writeHead(action.redirectConfig.statusCode === 'HTTP_301' ? 301 : 302, { Server: 'awselb/2.0', Location: location, 'Content-Length': 0 });
      res.end();
      lbm?.redirects.inc();
      const status = action.redirectConfig.statusCode === 'HTTP_301' ? 301 : 302;
      return void res.once('close', () =>
        done({ elbStatusCode: status, producedBy: 'elb', actionsExecuted: ['redirect'], redirectUrl: location, matchedRulePriority: match.priority }),
      );
    }

    const headers = upstreamHeaders(req.rawHeaders, client, { ...lb.settings.headers, listenerPort: this.#port }, Date.now(), hostOverride);
    if (!headers.ok) return elbAnswer(headers.status, undefined, { matchedRulePriority: match.priority });

    const group = lb.groupFor(action);
    let lease: Lease;
    try {
      lease = group.acquire();
    } catch (err) {
      const code = isElbError(err) ? err.code : ErrorCodes.NO_ROUTABLE_TARGETS;
      return elbAnswer(statusForError(err), code, { matchedRulePriority: match.priority, traceId: headers.traceId, targetGroup: group.name, actionsExecuted: ['forward'] });
    }
    const target = lease.target;
    const tgm = lb.metrics?.targetGroupCounters(lb.name, group.name);
    tgm?.requests.inc();
    if (group.failingOpen) tgm?.unhealthyRouting.inc();
    const dispatchedAt = performance.now();
    forward({
      req,
      res,
      lease,
      pool: lb.pools.get(target),
      path,
      headers: headers.headers,
      idleTimeoutMs: lb.settings.idleTimeoutMs,
    }).then((result) => {
      // Anomaly detection (spec 3.1) counts 5XX answers and connection errors, not client aborts.
      lease.release(isElbError(result.error, ErrorCodes.CLIENT_CLOSED) ? undefined : result.error !== undefined || (result.targetStatus ?? 502) >= 500 ? 'error' : 'ok');
      const common = {
        target: { id: target.id, port: target.port },
        targetGroup: group.name,
        traceId: headers.traceId,
        matchedRulePriority: match.priority,
        actionsExecuted: ['forward'],
        requestProcessingMs: dispatchedAt - arrivedAt,
        targetProcessingMs: result.targetProcessingMs,
        targetStatusCode: result.targetStatus,
      };
      if (result.targetProcessingMs >= 0) {
        tgm?.responseTime.observe(result.targetProcessingMs / 1000);
      }
      if (result.error === undefined) {
        return done({ ...common, responseProcessingMs: 0, elbStatusCode: result.targetStatus ?? 502, producedBy: 'target' });
      }
      const err = result.error;
      const errorCode = (err as { code?: string }).code;
      if (isTargetConnectionError(err)) tgm?.connectionErrors.inc();
      if (isElbError(err, ErrorCodes.CLIENT_CLOSED) || res.destroyed) {
        if (!res.destroyed) res.destroy();
        return done({ ...common, elbStatusCode: 460, producedBy: 'elb', errorCode, targetStatusCode: result.targetStatus });
      }
      if (result.headersSent) {
        res.destroy();
        return done({ ...common, responseProcessingMs: 0, elbStatusCode: result.targetStatus ?? 502, producedBy: 'target', errorCode });
      }
      const status = statusForError(err);
      lb.log.debug({ event: 'request.failed', target: target.key, status, code: errorCode }, 'forwarding failed');
      elbAnswer(status, errorCode, { ...common, targetStatusCode: undefined });
    });
  }
}

/** What listener rules look at; the query string is parsed only if a condition asks for it. */
function requestFacts(method: string, path: string, host: string, rawHeaders: string[], sourceIp: string): RequestFacts {
  const q = path.indexOf('?');
  let query: URLSearchParams | undefined;
  return {
    method,
    path: q < 0 ? path : path.slice(0, q),
    get query() {
      query ??= new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
      return query;
    },
    host: host.replace(/:\d*$/, '').replace(/^\[(.*)\]$/, '$1'),
    rawHeaders,
    sourceIp,
  };
}

/** The Location of a redirect action (spec 6.3): `#{protocol}`, `#{host}`, `#{port}`, `#{path}`, `#{query}`. */
export function redirectLocation(
  c: { protocol: string; host: string; port: string; path: string; query: string },
  req: { protocol: string; host: string; port: number; path: string },
): string {
  const q = req.path.indexOf('?');
  const pathOnly = q < 0 ? req.path : req.path.slice(0, q);
  const query = q < 0 ? '' : req.path.slice(q + 1);
  const host = req.host.replace(/:\d*$/, '');
  const sub = (s: string) =>
    s
      .replaceAll('#{protocol}', req.protocol)
      .replaceAll('#{host}', host)
      .replaceAll('#{port}', String(req.port))
      .replaceAll('#{path}', pathOnly.replace(/^\//, ''))
      .replaceAll('#{query}', query);
  const protocol = sub(c.protocol).toLowerCase();
  const port = sub(c.port);
  const defaultPort = (protocol === 'https' && port === '443') || (protocol === 'http' && port === '80');
  const queryOut = sub(c.query);
  return `${protocol}://${sub(c.host)}${defaultPort ? '' : `:${port}`}${sub(c.path)}${queryOut ? `?${queryOut}` : ''}`;
}
