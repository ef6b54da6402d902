/**
 * Metrics under CloudWatch's names (spec 8.3) in a prom-client registry, so users recognise
 * them: `RequestCount`, `HTTPCode_ELB_5XX_Count`, `HealthyHostCount`, … Labels stand in for
 * CloudWatch dimensions (`load_balancer`, `target_group`). One registry per running instance.
 *
 * Hot paths (per request, per flow) only add to plain numbers on a counters object bound once
 * per load balancer or target group; the registry reads them when it is scraped. prom-client
 * still formats the exposition; its own `labels().inc()` hashes the label set on every call,
 * which is too much for the ALB's per-request budget.
 */
import { Registry } from 'prom-client';

export interface HostCounts {
  readonly loadBalancer: string;
  readonly targetGroup: string;
  readonly healthy: number;
  readonly unhealthy: number;
  readonly anomalous?: number;
  readonly mitigated?: number;
}

/** TargetResponseTime buckets, in seconds. */
export const RESPONSE_TIME_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** ELBAuthLatency buckets, in milliseconds (CloudWatch reports it in ms). */
export const AUTH_LATENCY_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** An ALB's authenticate actions (spec 8.3, 13.2.8): ELBAuthSuccess, ELBAuthFailure, ELBAuthError, … */
export class AuthenticationCounters {
  /** Logins that ended with a session (the callback's redirect). */
  success = 0;
  failure = 0;
  error = 0;
  refreshTokenSuccess = 0;
  userClaimsSizeExceeded = 0;
  /** ELBAuthLatency: the identity provider calls of one login or refresh, ms; counts per bucket, then +Inf. */
  readonly latencyBuckets = new Float64Array(AUTH_LATENCY_BUCKETS_MS.length + 1);
  latencySumMs = 0;
  latencyCount = 0;

  observeLatency(ms: number): void {
    let i = 0;
    while (i < AUTH_LATENCY_BUCKETS_MS.length && ms > AUTH_LATENCY_BUCKETS_MS[i]!) i++;
    this.latencyBuckets[i]!++;
    this.latencySumMs += ms;
    this.latencyCount++;
  }
}

/** Counters of one load balancer (ALB or NLB). Owned by ElbMetrics; callers only add. */
export class LoadBalancerCounters {
  readonly loadBalancer: string;
  /** ALB: responses the load balancer made, by status code (HTTPCode_ELB_*). */
  readonly elbStatus = new Float64Array(600);
  processedBytes = 0;
  newConnections = 0;
  activeConnections = 0;
  ruleEvaluations = 0;
  fixedResponses = 0;
  redirects = 0;
  /** ClientTLSNegotiationErrorCount: handshakes with clients that never reached a session. */
  clientTlsErrors = 0;
  /** GrpcRequestCount (ALB): gRPC requests (HTTP/2, `application/grpc`). */
  grpcRequests = 0;
  /** DesyncMitigationMode_NonCompliant_Request_Count (ALB): requests classified other than Compliant, in every mode (spec 13.1.1). */
  desyncNonCompliantRequests = 0;
  /** Dropped/ForwardedInvalidHeaderRequestCount (ALB): requests with a header name outside `[-A-Za-z0-9]+`, by `drop_invalid_header_fields` (spec 13.1.8). */
  droppedInvalidHeaderRequests = 0;
  forwardedInvalidHeaderRequests = 0;
  /** NonStickyRequestCount / AppCookieNonStickinessCount (ALB): requests to a sticky group whose binding could not be used (spec 3.3). */
  nonStickyRequests = 0;
  appCookieNonStickiness = 0;
  /** ALB: the ELBAuth* metrics. */
  readonly authentication = new AuthenticationCounters();
  /** NLB. */
  readonly newFlows = { TCP: 0, UDP: 0, TLS: 0 };
  readonly activeFlows = { TCP: 0, UDP: 0, TLS: 0 };
  /** NLB: ProcessedBytes by listener protocol (CloudWatch's `ProcessedBytes_TCP`, `_TLS`, `_UDP`). */
  readonly processedBytesByProtocol = { TCP: 0, UDP: 0, TLS: 0 };
  clientResets = 0;
  targetResets = 0;
  elbResets = 0;

  constructor(loadBalancer: string) {
    this.loadBalancer = loadBalancer;
  }
}

/** Counters of one target group behind one load balancer. */
export class TargetGroupCounters {
  readonly loadBalancer: string;
  readonly targetGroup: string;
  /** RequestCount: requests for which a target was chosen. */
  requests = 0;
  /** UnhealthyRoutingRequestCount (ALB) / UnhealthyRoutingFlowCount (NLB): routed by fail-open. */
  unhealthyRouting = 0;
  connectionErrors = 0;
  /** TargetTLSNegotiationErrorCount: handshakes with HTTPS/TLS targets that failed or timed out. */
  tlsErrors = 0;
  /** Responses from targets, by status code (HTTPCode_Target_*). */
  readonly targetStatus = new Float64Array(600);
  /** TargetResponseTime: counts per bucket of RESPONSE_TIME_BUCKETS, then one for +Inf. */
  readonly responseTimeBuckets = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
  responseTimeSum = 0;
  responseTimeCount = 0;

  constructor(loadBalancer: string, targetGroup: string) {
    this.loadBalancer = loadBalancer;
    this.targetGroup = targetGroup;
  }

  /** One TargetResponseTime observation, in seconds. */
  observeResponseTime(seconds: number): void {
    let i = 0;
    while (i < RESPONSE_TIME_BUCKETS.length && seconds > RESPONSE_TIME_BUCKETS[i]!) i++;
    this.responseTimeBuckets[i]!++;
    this.responseTimeSum += seconds;
    this.responseTimeCount++;
  }
}

type Labels = Record<string, string>;
interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/** A metric the registry reads at scrape time from the counters (prom-client's metric interface). */
class CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum';
  readonly #samples: () => Sample[];

  constructor(registry: Registry, name: string, help: string, type: CollectedMetric['type'], samples: () => Sample[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#samples = samples;
    registry.registerMetric(this as never);
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#samples() };
  }

  reset(): void {}
}

const classOf = (codes: Float64Array, hundred: number) => {
  let n = 0;
  for (let s = hundred; s < hundred + 100; s++) n += codes[s]!;
  return n;
};

export class ElbMetrics {
  readonly registry = new Registry();
  readonly #loadBalancers = new Map<string, LoadBalancerCounters>();
  readonly #targetGroups = new Map<string, TargetGroupCounters>();
  readonly #hostCounts: Array<() => HostCounts[]> = [];

  constructor() {
    const r = this.registry;
    const lbs = () => [...this.#loadBalancers.values()];
    const tgs = () => [...this.#targetGroups.values()];
    const lbLabel = (c: LoadBalancerCounters) => ({ load_balancer: c.loadBalancer });
    const tgLabel = (c: TargetGroupCounters) => ({ load_balancer: c.loadBalancer, target_group: c.targetGroup });
    const perLb = (name: string, help: string, value: (c: LoadBalancerCounters) => number, type: 'counter' | 'gauge' = 'counter') =>
      new CollectedMetric(r, name, help, type, () => lbs().map((c) => ({ labels: lbLabel(c), value: value(c) })));
    const perTg = (name: string, help: string, value: (c: TargetGroupCounters) => number) =>
      new CollectedMetric(r, name, help, 'counter', () => tgs().map((c) => ({ labels: tgLabel(c), value: value(c) })));

    perTg('RequestCount', 'Requests for which a target was chosen', (c) => c.requests);
    for (const hundred of [300, 400, 500]) {
      const x = `${hundred / 100}XX`;
      perLb(`HTTPCode_ELB_${x}_Count`, `HTTP ${x} responses generated by the load balancer`, (c) => classOf(c.elbStatus, hundred));
    }
    for (const code of [500, 502, 503, 504]) {
      perLb(`HTTPCode_ELB_${code}_Count`, `HTTP ${code} responses generated by the load balancer`, (c) => c.elbStatus[code]!);
    }
    for (const hundred of [200, 300, 400, 500]) {
      const x = `${hundred / 100}XX`;
      perTg(`HTTPCode_Target_${x}_Count`, `HTTP ${x} responses generated by targets`, (c) => classOf(c.targetStatus, hundred));
    }
    new CollectedMetric(r, 'TargetResponseTime', 'Seconds from the request leaving the load balancer until the target starts its response headers', 'histogram', () =>
      tgs().flatMap((c) => {
        const labels = tgLabel(c);
        let cumulative = 0;
        const buckets = [...RESPONSE_TIME_BUCKETS, '+Inf' as const].map((le, i) => {
          cumulative += c.responseTimeBuckets[i]!;
          return { metricName: 'TargetResponseTime_bucket', labels: { ...labels, le: String(le) }, value: cumulative };
        });
        return [
          ...buckets,
          { metricName: 'TargetResponseTime_sum', labels, value: c.responseTimeSum },
          { metricName: 'TargetResponseTime_count', labels, value: c.responseTimeCount },
        ];
      }),
    );
    perTg('TargetConnectionErrorCount', 'Failed connection attempts to targets (health checks excluded)', (c) => c.connectionErrors);
    perTg('TargetTLSNegotiationErrorCount', 'TLS handshakes with targets that failed or timed out (health checks excluded)', (c) => c.tlsErrors);
    perLb('ClientTLSNegotiationErrorCount', 'TLS handshakes with clients that never reached an established session', (c) => c.clientTlsErrors);
    perTg('UnhealthyRoutingRequestCount', 'Requests routed by fail-open', (c) => (this.#isNetwork(c.loadBalancer) ? 0 : c.unhealthyRouting));
    perLb('NewConnectionCount', 'New client connections', (c) => c.newConnections);
    perLb('ActiveConnectionCount', 'Open client connections', (c) => c.activeConnections, 'gauge');
    // An NLB reports it by listener protocol, as it does its flows (label protocol).
    new CollectedMetric(r, 'ProcessedBytes', 'Bytes received from and sent to clients (ALB: headers and bodies; NLB: payload each way, by listener protocol)', 'counter', () =>
      lbs().flatMap((c) =>
        this.#isNetwork(c.loadBalancer)
          ? (['TCP', 'UDP', 'TLS'] as const).map((protocol) => ({ labels: { ...lbLabel(c), protocol }, value: c.processedBytesByProtocol[protocol] }))
          : [{ labels: lbLabel(c), value: c.processedBytes }],
      ),
    );
    perLb('HTTP_Fixed_Response_Count', 'Successful fixed-response actions', (c) => c.fixedResponses);
    perLb('HTTP_Redirect_Count', 'Successful redirect actions', (c) => c.redirects);
    perLb('RuleEvaluations', 'Listener rules evaluated (default rule excluded)', (c) => c.ruleEvaluations);
    perLb('GrpcRequestCount', 'gRPC requests (HTTP/2, content-type application/grpc)', (c) => c.grpcRequests);
    perLb('DesyncMitigationMode_NonCompliant_Request_Count', 'Requests desync mitigation classified Acceptable, Ambiguous or Severe (every mode)', (c) => c.desyncNonCompliantRequests);
    perLb('DroppedInvalidHeaderRequestCount', 'Forwarded requests whose header names outside [-A-Za-z0-9]+ were dropped (drop_invalid_header_fields true)', (c) => c.droppedInvalidHeaderRequests);
    perLb('NonStickyRequestCount', 'Requests to an lb_cookie sticky target group that got a new target: no AWSALB cookie, or one that could not be used', (c) => c.nonStickyRequests);
    perLb('AppCookieNonStickinessCount', 'Requests to an app_cookie sticky target group that got a new target: no AWSALBAPP cookie, or one that could not be used', (c) => c.appCookieNonStickiness);
    perLb('ForwardedInvalidHeaderRequestCount', 'Forwarded requests with header names outside [-A-Za-z0-9]+ (drop_invalid_header_fields false)', (c) => c.forwardedInvalidHeaderRequests);
    const perAlb = (name: string, help: string, value: (c: LoadBalancerCounters) => number) =>
      new CollectedMetric(r, name, help, 'counter', () => lbs().filter((c) => !this.#isNetwork(c.loadBalancer)).map((c) => ({ labels: lbLabel(c), value: value(c) })));
    perAlb('ELBAuthSuccess', 'Logins through an authenticate action that ended with a session', (c) => c.authentication.success);
    perAlb('ELBAuthFailure', 'Authenticate actions that failed on the client or identity provider side (bad cookie, state, nonce, grant, tokens, an IdP error)', (c) => c.authentication.failure);
    perAlb('ELBAuthError', 'Authenticate actions that failed in the load balancer or reaching the identity provider', (c) => c.authentication.error);
    perAlb('ELBAuthRefreshTokenSuccess', 'Sessions whose claims were refreshed with a refresh token', (c) => c.authentication.refreshTokenSuccess);
    perAlb('ELBAuthUserClaimsSizeExceeded', 'Logins refused because the user claims and access token exceed 11K', (c) => c.authentication.userClaimsSizeExceeded);
    new CollectedMetric(r, 'ELBAuthLatency', 'Milliseconds spent calling the identity provider (token and user-info endpoints) per login or refresh', 'histogram', () =>
      lbs()
        .filter((c) => !this.#isNetwork(c.loadBalancer))
        .flatMap((c) => {
          const labels = lbLabel(c);
          const a = c.authentication;
          let cumulative = 0;
          const buckets = [...AUTH_LATENCY_BUCKETS_MS, '+Inf' as const].map((le, i) => {
            cumulative += a.latencyBuckets[i]!;
            return { metricName: 'ELBAuthLatency_bucket', labels: { ...labels, le: String(le) }, value: cumulative };
          });
          return [...buckets, { metricName: 'ELBAuthLatency_sum', labels, value: a.latencySumMs }, { metricName: 'ELBAuthLatency_count', labels, value: a.latencyCount }];
        }),
    );
    const perProtocol = (name: string, help: string, value: (c: LoadBalancerCounters) => { TCP: number; UDP: number; TLS: number }, type: 'counter' | 'gauge') =>
      new CollectedMetric(r, name, help, type, () =>
        lbs()
          .filter((c) => this.#isNetwork(c.loadBalancer))
          .flatMap((c) => (['TCP', 'UDP', 'TLS'] as const).map((protocol) => ({ labels: { ...lbLabel(c), protocol }, value: value(c)[protocol] }))),
      );
    perProtocol('ActiveFlowCount', 'NLB: concurrent flows from clients to targets', (c) => c.activeFlows, 'gauge');
    perProtocol('NewFlowCount', 'NLB: new flows from clients to targets', (c) => c.newFlows, 'counter');
    const perNlb = (name: string, help: string, value: (c: LoadBalancerCounters) => number) =>
      new CollectedMetric(r, name, help, 'counter', () => lbs().filter((c) => this.#isNetwork(c.loadBalancer)).map((c) => ({ labels: lbLabel(c), value: value(c) })));
    perNlb('TCP_Client_Reset_Count', 'NLB: resets sent by clients and passed to targets', (c) => c.clientResets);
    perNlb('TCP_Target_Reset_Count', 'NLB: resets sent by targets and passed to clients', (c) => c.targetResets);
    perNlb('TCP_ELB_Reset_Count', 'NLB: resets the load balancer made (idle timeout, unhealthy target, termination on deregistration, no target)', (c) => c.elbResets);
    perTg('UnhealthyRoutingFlowCount', 'NLB: flows routed by fail-open', (c) => (this.#isNetwork(c.loadBalancer) ? c.unhealthyRouting : 0));

    const hosts = (pick: (c: HostCounts) => number) => () =>
      this.#hostCounts.flatMap((source) => source()).map((c) => ({ labels: { load_balancer: c.loadBalancer, target_group: c.targetGroup }, value: pick(c) }));
    new CollectedMetric(r, 'HealthyHostCount', 'Targets the target group considers healthy', 'gauge', hosts((c) => c.healthy));
    new CollectedMetric(r, 'UnHealthyHostCount', 'Registered targets the target group considers unhealthy', 'gauge', hosts((c) => c.unhealthy));
    new CollectedMetric(r, 'AnomalousHostCount', 'Targets automatic target weights flag as anomalous (weighted_random target groups)', 'gauge', hosts((c) => c.anomalous ?? 0));
    new CollectedMetric(r, 'MitigatedHostCount', 'Targets whose traffic anomaly mitigation is reducing', 'gauge', hosts((c) => c.mitigated ?? 0));
  }

  readonly #network = new Set<string>();

  #isNetwork(loadBalancer: string): boolean {
    return this.#network.has(loadBalancer);
  }

  /**
   * The counters of one load balancer, made on first use. `type` decides which metric names
   * it reports under (an NLB has no HTTP codes; an ALB no flows), from the first call on.
   */
  loadBalancerCounters(loadBalancer: string, type: 'application' | 'network' = 'application'): LoadBalancerCounters {
    let c = this.#loadBalancers.get(loadBalancer);
    if (c === undefined) {
      c = new LoadBalancerCounters(loadBalancer);
      this.#loadBalancers.set(loadBalancer, c);
      if (type === 'network') this.#network.add(loadBalancer);
    }
    return c;
  }

  /** The counters of one target group behind one load balancer, made on first use. */
  targetGroupCounters(loadBalancer: string, targetGroup: string): TargetGroupCounters {
    const key = `${loadBalancer}\u0000${targetGroup}`;
    let c = this.#targetGroups.get(key);
    if (c === undefined) {
      c = new TargetGroupCounters(loadBalancer, targetGroup);
      this.#targetGroups.set(key, c);
    }
    return c;
  }

  /** Every load balancer's and target group's counters made so far, for readers that sample them (the dashboard). */
  counters(): { readonly loadBalancers: readonly LoadBalancerCounters[]; readonly targetGroups: readonly TargetGroupCounters[] } {
    return { loadBalancers: [...this.#loadBalancers.values()], targetGroups: [...this.#targetGroups.values()] };
  }

  /** Adds a source of HealthyHostCount/UnHealthyHostCount, read when metrics are scraped. */
  addHostCounts(source: () => HostCounts[]): () => void {
    this.#hostCounts.push(source);
    return () => {
      const i = this.#hostCounts.indexOf(source);
      if (i >= 0) this.#hostCounts.splice(i, 1);
    };
  }
}
