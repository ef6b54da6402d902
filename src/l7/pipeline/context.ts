/**
 * The state of one request as it moves through the ALB's stages (README, "The request
 * pipeline"): the front end fills in what arrived, each stage adds what it decided, and the
 * record stage reads the whole. One object per request, with a fixed shape.
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { LoadBalancerCounters, TargetGroupCounters } from '../../core/metrics.ts';
import type { Random } from '../../core/random.ts';
import type { ApplicationLoadBalancerSettings } from '../../config/settings.ts';
import type { TargetGroup } from '../../targets/target-group.ts';
import type { Lease } from '../../targets/target.ts';
import type { ForwardActionConfig, ForwardChoice } from '../actions/forward.ts';
import type { ClientAddress, RequestBody, ResponseSink } from '../exchange.ts';
import type { ForwardHeaderOptions } from '../headers.ts';
import { COMPLIANT, type DesyncClassification } from '../desync.ts';
import type { RereadHead } from '../http1/llhttp.ts';
import type { ConnectionRecord } from '../connection-log.ts';
import type { RequestRecord } from '../request-record.ts';
import type { ResponseHeaderRules } from '../response-headers.ts';
import type { CompiledRules, RuleMatch } from '../rules.ts';
import type { TransformStatus } from '../transforms.ts';
import type { StickyRequest } from '../sticky.ts';
import type { BackendTls, UpstreamExchange, UpstreamHandler, UpstreamRequest } from '../upstream/connection.ts';
import type { UpstreamTarget } from '../upstream/pools.ts';
import type { Tunnel } from '../tunnel.ts';
import type { AlbAuthentication } from '../auth/authentication.ts';
import type { JwksCache } from '../auth/jwks.ts';
import type { JwtValidationEmulatorConfig } from '../../config/jwt-validation.ts';

/** Load balancer attributes as the data path uses them (spec 4.6), typed once per change. */
export type AlbSettings = ApplicationLoadBalancerSettings;

/** A target group a forward action names, with its counters bound once. */
export interface ForwardGroup {
  readonly group: TargetGroup;
  readonly counters: TargetGroupCounters;
  /** HTTPS target groups: TLS to the targets with the back-end policy of spec 12.1.3. */
  readonly tls: boolean;
  /** `HTTP1` (the default), `HTTP2` or `GRPC` (spec 12.4.1): the last two speak HTTP/2 to targets. */
  readonly protocolVersion: 'HTTP1' | 'HTTP2' | 'GRPC';
}

/**
 * Everything the stages of one listener need, given to them explicitly (they never reach back
 * into the load balancer object). Built by the ApplicationLoadBalancer per listener; `settings`
 * is replaced when the load balancer's attributes change, `rules` and `responseHeaders` when
 * the listener's rules, default actions or attributes change at runtime (the ELBv2 API).
 */
export interface ListenerRuntime {
  readonly loadBalancer: string;
  readonly protocol: 'http' | 'https';
  /** TLS to HTTPS targets: the back-end policy that follows this listener's (spec 12.1.3). */
  readonly backendTls: BackendTls;
  /** The address the listener binds; `port` is the bound port once it listens. */
  readonly address: string;
  port: number;
  settings: AlbSettings;
  readonly clock: Clock;
  readonly log: Logger;
  /** How forwarded requests' headers are built (from `settings` and the bound port). */
  headerOptions: ForwardHeaderOptions;
  rules: CompiledRules;
  readonly counters: LoadBalancerCounters;
  /** A forward action's target groups and weights, resolved once per action. */
  readonly forwardChoice: (action: ForwardActionConfig) => ForwardChoice;
  /** Where requests to targets go (TargetPools; a scripted stand-in in unit tests). */
  readonly upstream: Upstream;
  /** Where requests to HTTP2 and GRPC target groups go (HTTP/2 sessions). */
  readonly upstreamHttp2: Upstream;
  /** Weighted forward actions draw from this. */
  readonly random: Random;
  /** Receives each finished request's record; undefined when nobody listens (no record is built). */
  observer: ((record: RequestRecord) => void) | undefined;
  /** Receives a record per connection attempt while `settings.connectionLogs` (spec 12.1.8); undefined when nobody listens. */
  connectionObserver: ((record: ConnectionRecord) => void) | undefined;
  /** Open WebSocket tunnels: the listener's sweep applies the idle timeout, its shutdown closes them. */
  readonly tunnels: Set<Tunnel>;
  /** HTTP/2 to clients (HTTPS listeners) and gRPC: the load balancer's emulator settings. */
  readonly http2: { readonly requestsPerConnection: number; readonly grpcStatusOnErrors: boolean };
  /** The listener's response header attributes (spec 13.3.1); undefined when it has none. */
  responseHeaders: ResponseHeaderRules | undefined;
  /** The load balancer's authenticate actions (spec 13.2) when this listener has one; it then also answers `/oauth2/idpresponse`. */
  auth?: AlbAuthentication | undefined;
  /** The load balancer's JWKS keys and jwt-validation settings when this listener has a jwt-validation action; undefined otherwise. */
  jwt?: { readonly jwks: JwksCache; readonly settings: JwtValidationEmulatorConfig } | undefined;
}

/** Sends one request to one target (over TLS when `backend` is given) and reports back through `handler`. */
export interface Upstream {
  request(target: UpstreamTarget, request: UpstreamRequest, handler: UpstreamHandler, backend?: BackendTls): UpstreamExchange;
}

/** Who made the response the client got. */
export type ProducedBy = 'elb' | 'target';

export class RequestContext {
  readonly listener: ListenerRuntime;
  readonly method: string;
  /** The request-target as received (origin-form, absolute-form, `*`). */
  readonly target: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** The client's headers, `[name, value, …]`, as received. */
  readonly rawHeaders: readonly string[];
  /** Set when llhttp refused the head and the head reader read it (the version as received, its framing). */
  readonly reread: RereadHead | undefined;
  /** `Upgrade` or `CONNECT` (llhttp's view). */
  readonly upgrade: boolean;
  /** An HTTP/1.1 `GET` with `Upgrade: websocket` (spec 7.3): forwarded with its upgrade headers. */
  readonly websocket: string | undefined;
  /** `content-type: application/grpc…` (how ALB tells gRPC apart is UNCONFIRMED, spec 12.4.2). */
  readonly grpc: boolean;
  readonly client: ClientAddress;
  readonly response: ResponseSink;
  /** Undefined when the request has no body. */
  readonly body: RequestBody | undefined;
  /** On the listener's clock: when the request head was complete. */
  readonly arrivedMs: number;

  // accept
  /** Path and query, origin-form. */
  path = '/';
  /** The first Host header (or the absolute-form authority), as received. */
  host = '';
  /** The authority of an absolute-form request-target: it replaces Host (spec 5.4). */
  hostOverride: string | undefined = undefined;
  /** Desync mitigation's verdict (spec 13.1; access log fields 28–29); HTTP/2 requests stay Compliant. */
  classification: DesyncClassification = COMPLIANT;
  /** Defensive mode after an Ambiguous request: the target connection closes after the response too (spec 13.1.1). */
  closeTargetAfter = false;
  /** A header name outside `[-A-Za-z0-9]+` (ForwardedInvalidHeaderRequestCount, DroppedInvalidHeaderRequestCount; spec 13.1.8). */
  invalidHeaderNames = false;

  // match
  match: RuleMatch | undefined = undefined;

  // transform (spec 6.1): set only when the matched rule has transforms
  /** The Host sent on after a host-header-rewrite matched (the new name, the received port). */
  transformedHost: string | undefined = undefined;
  /** The request-target sent on after a url-rewrite matched (path and query). */
  transformedTarget: string | undefined = undefined;
  /** Access log field 33; undefined when the rule has no transforms. */
  transformStatus: TransformStatus | undefined = undefined;

  // act: an authenticate action (spec 13.2)
  /**
   * The client's headers as the routing action sends them on, before the load balancer's own:
   * an authenticate action strips `x-amzn-oidc-*` and adds its three (spec 13.2.5).
   */
  forwardedHeaders: readonly string[];
  /** An authenticate action let the request through: `actions_executed` starts with `authenticate`. */
  authenticated = false;
  /** A jwt-validation action let the request through: `actions_executed` starts with `jwt-validation` (README, "JWT validation"). */
  jwtValidated = false;
  /** `Set-Cookie` values the load balancer adds to the target's response (a refreshed session). */
  setCookies: readonly string[] | undefined = undefined;

  // forward
  forward: ForwardGroup | undefined = undefined;
  /** Sticky sessions (spec 3.3, 3.4): set only when the action or the group is sticky. */
  sticky: StickyRequest | undefined = undefined;
  lease: Lease | undefined = undefined;
  traceId: string | undefined = undefined;
  dispatchedMs = -1;
  targetHeadMs = -1;
  responseStartMs = -1;
  targetStatus: number | undefined = undefined;

  // outcome
  /** The status the client got (460 when it left first; then nothing was sent). */
  status = 0;
  producedBy: ProducedBy = 'elb';
  actionsExecuted: readonly string[] = [];
  redirectUrl: string | undefined = undefined;
  /** Stable code of the failure, when there was one. */
  errorCode: string | undefined = undefined;
  /** The access log's `error_reason` (spec 8.1 field 25): the authentication codes of spec 13.2.8, AWSALBTGCookieInvalid (spec 3.4). */
  errorReason: string | undefined = undefined;
  finished = false;

  constructor(
    listener: ListenerRuntime,
    head: { method: string; url: string; versionMajor: number; versionMinor: number; headers: readonly string[]; upgrade: boolean; reread?: RereadHead },
    client: ClientAddress,
    response: ResponseSink,
    body: RequestBody | undefined,
  ) {
    this.listener = listener;
    this.method = head.method;
    this.target = head.url;
    this.versionMajor = head.versionMajor;
    this.versionMinor = head.versionMinor;
    this.rawHeaders = head.headers;
    this.reread = head.reread;
    this.forwardedHeaders = head.headers;
    this.upgrade = head.upgrade;
    this.websocket = head.upgrade && head.method === 'GET' ? websocketUpgrade(head.headers) : undefined;
    this.grpc = isGrpc(head.headers);
    this.client = client;
    this.response = response;
    this.body = body;
    this.arrivedMs = listener.clock.now();
  }

  get httpVersion(): string {
    return `${this.versionMajor}.${this.versionMinor}`;
  }

  // tunnel (WebSockets, after a 101)
  /** Set once the target switched protocols; the request ends when the tunnel closes. */
  upgraded = false;
}

function isGrpc(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 12 && headers[i]!.toLowerCase() === 'content-type') return headers[i + 1]!.toLowerCase().startsWith('application/grpc');
  }
  return false;
}

/** The `Upgrade` header's value when it asks for a WebSocket (any other upgrade is not forwarded). */
function websocketUpgrade(headers: readonly string[]): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 7 && headers[i]!.toLowerCase() === 'upgrade') return /\bwebsocket\b/i.test(headers[i + 1]!) ? headers[i + 1] : undefined;
  }
  return undefined;
}
