/**
 * Fixtures for unit tests of the ALB's pipeline stages, with no sockets: a listener runtime on
 * a virtual clock, a response sink and a request body that record what the stages did, a
 * scripted upstream, and target groups whose health checks always pass.
 */
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { ElbMetrics } from '../../src/core/metrics.ts';
import { seededRandom } from '../../src/core/random.ts';
import { parseConfig, type ConfigInput } from '../../src/config/schema.ts';
import { forwardChoice, type ForwardActionConfig, type ForwardChoice } from '../../src/l7/actions/forward.ts';
import type { BodyConsumer, RequestBody, ResponseHeadOptions, ResponseSink } from '../../src/l7/exchange.ts';
import type { MessageHead } from '../../src/l7/http1/llhttp.ts';
import { RequestContext, type ForwardGroup, type ListenerRuntime, type Upstream } from '../../src/l7/pipeline/context.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { compileRules } from '../../src/l7/rules.ts';
import type { UpstreamExchange, UpstreamHandler, UpstreamRequest } from '../../src/l7/upstream/connection.ts';
import type { UpstreamTarget } from '../../src/l7/upstream/pools.ts';
import type { Picker } from '../../src/algorithms/index.ts';
import { TargetGroup } from '../../src/targets/target-group.ts';
import type { Target } from '../../src/targets/target.ts';

/** A response sink that keeps everything written to it. */
export class RecordingResponse implements ResponseSink {
  head: { status: number; reason: string; headers: readonly string[]; options: ResponseHeadOptions } | undefined;
  readonly chunks: Buffer[] = [];
  headersSent = false;
  finished = false;
  ended = false;
  aborted = false;
  continued = false;
  receivedBytes = 100;
  sentBytes = 200;
  /** What `write` returns (false: the client is slow). */
  writable = true;
  readonly #drain: Array<() => void> = [];
  readonly #gone: Array<(why: 'closed' | 'timeout') => void> = [];

  writeHead(status: number, reason: string, headers: readonly string[], options: ResponseHeadOptions): void {
    this.head = { status, reason, headers, options };
    this.headersSent = true;
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return this.writable;
  }
  onDrain(fn: () => void): void {
    this.#drain.push(fn);
  }
  flushes = 0;
  flush(): void {
    this.flushes++;
  }
  drain(): void {
    for (const fn of this.#drain.splice(0)) fn();
  }
  end(): void {
    this.finished = true;
    this.ended = true;
  }
  abort(): void {
    this.finished = true;
    this.aborted = true;
  }
  onClientGone(fn: (why: 'closed' | 'timeout') => void): void {
    this.#gone.push(fn);
  }
  /** The client goes away. */
  gone(why: 'closed' | 'timeout' = 'closed'): void {
    this.finished = true;
    for (const fn of this.#gone.splice(0)) fn(why);
  }
  sendContinue(): void {
    this.continued = true;
  }
  get body(): string {
    return Buffer.concat(this.chunks).toString();
  }
  /** A header's value as sent (first one), by case-insensitive name. */
  header(name: string): string | undefined {
    const h = this.head?.headers ?? [];
    for (let i = 0; i < h.length; i += 2) if (h[i]!.toLowerCase() === name.toLowerCase()) return h[i + 1];
    return undefined;
  }
}

/** A request body the test feeds by hand. */
export class ScriptedBody implements RequestBody {
  readonly contentLength: number | undefined;
  complete = false;
  consumer: BodyConsumer | undefined;
  paused = false;
  discarded = false;
  resumes = 0;

  constructor(contentLength: number | undefined) {
    this.contentLength = contentLength;
  }
  start(consumer: BodyConsumer): void {
    this.consumer = consumer;
  }
  resume(): void {
    this.resumes++;
    this.paused = false;
  }
  discard(): void {
    this.discarded = true;
  }
  /** Delivers a chunk; the consumer's answer says whether it wants more now. */
  send(text: string): boolean {
    const more = this.consumer!.data(Buffer.from(text));
    if (!more) this.paused = true;
    return more;
  }
  finish(): void {
    this.complete = true;
    this.consumer!.end();
  }
  fail(): void {
    this.consumer!.aborted();
  }
}

/** One request the scripted upstream received, with the handle the stage holds. */
export class ScriptedExchange implements UpstreamExchange {
  readonly target: UpstreamTarget;
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
  readonly body: string[] = [];
  bodyEnded = false;
  aborted = false;
  paused = false;
  /** What `writeBody` returns (false: the target is slow). */
  writable = true;
  readonly #drain: Array<() => void> = [];

  constructor(target: UpstreamTarget, request: UpstreamRequest, handler: UpstreamHandler) {
    this.target = target;
    this.request = request;
    this.handler = handler;
  }
  writeBody(chunk: Buffer): boolean {
    this.body.push(chunk.toString());
    return this.writable;
  }
  onBodyDrain(fn: () => void): void {
    this.#drain.push(fn);
  }
  drainBody(): void {
    for (const fn of this.#drain.splice(0)) fn();
  }
  endBody(): void {
    this.bodyEnded = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  abort(): void {
    this.aborted = true;
  }
  /** The target answers with a head (status, headers as `[name, value, …]`). */
  head(statusCode: number, headers: string[] = [], statusMessage = ''): void {
    this.handler.onHead({ versionMajor: 1, versionMinor: 1, headers, method: '', url: '', statusCode, statusMessage, upgrade: false, keepAlive: true });
  }
  data(text: string): boolean {
    const more = this.handler.onData(Buffer.from(text));
    if (!more) this.paused = true;
    return more;
  }
}

export class ScriptedUpstream implements Upstream {
  readonly exchanges: ScriptedExchange[] = [];
  request(target: UpstreamTarget, request: UpstreamRequest, handler: UpstreamHandler): UpstreamExchange {
    const exchange = new ScriptedExchange(target, request, handler);
    this.exchanges.push(exchange);
    return exchange;
  }
  get last(): ScriptedExchange {
    return this.exchanges.at(-1)!;
  }
}

export interface Fixture {
  readonly clock: VirtualClock;
  readonly metrics: ElbMetrics;
  readonly upstream: ScriptedUpstream;
  readonly runtime: ListenerRuntime;
  readonly records: RequestRecord[];
  readonly groups: Map<string, TargetGroup>;
  /** A request on this listener: a RequestContext with a recording response. */
  request(init?: RequestInit): { ctx: RequestContext; response: RecordingResponse; body: ScriptedBody | undefined };
  group(name: string): TargetGroup;
  close(): void;
}

export interface RequestInit {
  readonly method?: string;
  readonly url?: string;
  readonly headers?: string[];
  readonly version?: [number, number];
  /** A body with this Content-Length, or `chunked`. */
  readonly body?: number | 'chunked';
}

export interface FixtureOptions {
  /** Target groups (config input); each registered target passes its health checks at once. */
  readonly targetGroups?: NonNullable<ConfigInput['targetGroups']>;
  /** Listener rules and default actions, as in the config. */
  readonly listener?: Pick<NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number], 'defaultActions' | 'rules'>;
  readonly picker?: (name: string) => Picker<Target> | undefined;
  readonly seed?: number;
}

/** A listener runtime on a virtual clock, with target groups in use by it. */
export function pipelineFixture(options: FixtureOptions = {}): Fixture {
  const clock = new VirtualClock(1_764_000_000_000);
  const metrics = new ElbMetrics();
  const upstream = new ScriptedUpstream();
  const targetGroups = options.targetGroups ?? [{ name: 'web', protocol: 'HTTP', port: 80 }];
  const listenerInput = options.listener ?? { defaultActions: [{ type: 'forward', targetGroupName: targetGroups[0]!.name }] };
  const config = parseConfig({
    targetGroups,
    loadBalancers: [{ name: 'app', listeners: [{ port: 8080, ...listenerInput }] }],
  });
  const groups = new Map<string, TargetGroup>();
  for (const tg of config.targetGroups) {
    const picker = options.picker?.(tg.name);
    const group = new TargetGroup({ config: tg, clock, probe: () => ({ ok: true, statusCode: 200 }), ...(picker ? { picker } : {}) });
    group.setLoadBalancers(['app']);
    groups.set(tg.name, group);
  }
  const resolve = (name: string): ForwardGroup => ({ group: groups.get(name)!, counters: metrics.targetGroupCounters('app', name), tls: false, protocolVersion: 'HTTP1' });
  const choices = new Map<ForwardActionConfig, ForwardChoice>();
  const records: RequestRecord[] = [];
  const listener = config.loadBalancers[0]!.listeners[0]!;
  const settings = { idleTimeoutMs: 60_000, clientKeepAliveMs: 3_600_000, xffMode: 'append' as const, xffClientPort: false, preserveHost: false, tlsVersionAndCipherHeaders: false, http2: true, desyncMitigationMode: 'defensive' as const, dropInvalidHeaderFields: false, connectionLogs: false };
  const runtime: ListenerRuntime = {
    loadBalancer: 'app',
    protocol: 'http',
    backendTls: { key: 'none', options: {} },
    address: '127.0.0.1',
    port: 8080,
    settings,
    headerOptions: { xffMode: 'append', xffClientPort: false, preserveHost: false, listenerPort: 8080, protocol: 'http', tlsHeaders: false },
    clock,
    log: silentLogger(),
    rules: compileRules(listener),
    counters: metrics.loadBalancerCounters('app'),
    forwardChoice: (action) => {
      let c = choices.get(action);
      if (c === undefined) choices.set(action, (c = forwardChoice(action, resolve)));
      return c;
    },
    upstream,
    random: seededRandom(options.seed ?? 1),
    observer: (r) => records.push(r),
    connectionObserver: undefined,
    tunnels: new Set(),
    http2: { requestsPerConnection: 10_000, grpcStatusOnErrors: false },
    responseHeaders: undefined,
    upstreamHttp2: upstream,
  };
  return {
    clock,
    metrics,
    upstream,
    runtime,
    records,
    groups,
    group: (name) => groups.get(name)!,
    request(init = {}) {
      const response = new RecordingResponse();
      const body = init.body === undefined ? undefined : new ScriptedBody(init.body === 'chunked' ? undefined : init.body);
      const [versionMajor, versionMinor] = init.version ?? [1, 1];
      const head: MessageHead = {
        versionMajor,
        versionMinor,
        headers: init.headers ?? ['Host', 'example.com'],
        method: init.method ?? 'GET',
        url: init.url ?? '/',
        statusCode: 0,
        statusMessage: '',
        upgrade: false,
        keepAlive: true,
      };
      const ctx = new RequestContext(runtime, head, { ip: '203.0.113.9', port: 40000 }, response, body);
      return { ctx, response, body };
    },
    close() {
      for (const g of groups.values()) g.close();
    },
  };
}
