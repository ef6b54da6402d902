/**
 * The config round trip: what `local-elb validate` prints (the parsed config, every default
 * filled, as JSON) is itself a config a user may keep and load again, and it means the same:
 * parse(print(parse(x))) deep-equals parse(x). Inputs are generated valid configs: target groups
 * of both kinds with fields in range (ALB groups of every protocolVersion, GRPC ones with gRPC
 * matchers), attributes from the catalogue (spec 4.4–4.6), load balancers whose listeners, rules
 * and actions name existing, compatible groups (HTTP2 and GRPC ones from HTTPS listeners only).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { printableConfig } from '../../../src/config/print.ts';
import { parseConfig, type Config } from '../../../src/config/schema.ts';

/** Reads text as `local-elb validate -c <file>` does (readYamlFile in src/cli/config-file.ts: YAML, of which JSON is a subset). */
function readConfigText(text: string): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  expect(doc.errors).toEqual([]);
  return parseConfig(doc.toJS());
}

/** What `local-elb validate` writes to stdout (src/cli/main.ts). */
function printAsValidate(config: Config): string {
  return `${JSON.stringify(printableConfig(config), null, 2)}\n`;
}

type Input = Record<string, unknown>;

/** Leaves out a field as often as it sets it, so defaults are exercised too. */
function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

/** Builds an object without the keys whose value is undefined (as a user would write it). */
function defined(fields: Record<string, unknown>): Input {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const port = fc.integer({ min: 1, max: 65535 });
const text = fc.string({ maxLength: 12 });
/** An attribute value as written in a file: the string, or a bare number or boolean YAML would read. */
const attr = (value: fc.Arbitrary<string>) =>
  value.chain((v): fc.Arbitrary<string | number | boolean> =>
    /^-?\d+$/.test(v) ? fc.constantFrom(v, Number(v)) : v === 'true' || v === 'false' ? fc.constantFrom(v, v === 'true') : fc.constant(v),
  );
const intString = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map(String);

/** Picks a subset of `entries` (each present or not). */
function someOf(entries: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Input> {
  return fc.record(Object.fromEntries(Object.entries(entries).map(([k, a]) => [k, optional(a)]))).map(defined);
}

/** ALB target group attributes (spec 4.4) that pass the cross-attribute rules (spec 3.1, 3.2). */
const albTargetGroupAttributes = fc.constantFrom('round_robin', 'least_outstanding_requests', 'weighted_random', undefined).chain((algorithm) =>
  someOf({
    'deregistration_delay.timeout_seconds': attr(intString(0, 3600)),
    'load_balancing.algorithm.anomaly_mitigation': attr(algorithm === 'weighted_random' ? fc.constantFrom('on', 'off') : fc.constant('off')),
    'slow_start.duration_seconds': attr(algorithm === 'round_robin' || algorithm === undefined ? fc.oneof(fc.constant('0'), intString(30, 900)) : fc.constant('0')),
    // Sticky groups in a weighted forward need group stickiness (spec 3.4): enabled stays off here, the rest varies.
    'stickiness.enabled': attr(fc.constant('false')),
    'stickiness.type': attr(fc.constantFrom('lb_cookie', 'app_cookie')),
    'stickiness.lb_cookie.duration_seconds': attr(intString(1, 604800)),
    'stickiness.app_cookie.cookie_name': attr(fc.constantFrom('', 'SESSIONID', 'connect.sid')),
    'stickiness.app_cookie.duration_seconds': attr(intString(1, 604800)),
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': attr(intString(1, 1000)),
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': attr(fc.oneof(fc.constant('off'), intString(1, 100))),
  }).map((a) => (algorithm === undefined ? a : { ...a, 'load_balancing.algorithm.type': algorithm })),
);

/** NLB target group attributes (spec 4.5) that pass the protocol rules (spec 4.3, 4.5). */
function nlbTargetGroupAttributes(protocol: string): fc.Arbitrary<Input> {
  const udp = protocol !== 'TCP';
  return fc.boolean().chain((terminateUnhealthy) =>
    someOf({
      'deregistration_delay.timeout_seconds': attr(intString(0, 3600)),
      'deregistration_delay.connection_termination.enabled': attr(fc.constantFrom('true', 'false')),
      'preserve_client_ip.enabled': attr(udp ? fc.constant('true') : fc.constantFrom('true', 'false')),
      'proxy_protocol_v2.enabled': attr(fc.constantFrom('true', 'false')),
      'stickiness.enabled': attr(fc.constantFrom('true', 'false')),
      'stickiness.type': attr(fc.constant('source_ip')),
      'target_health_state.unhealthy.draining_interval_seconds': attr(terminateUnhealthy ? fc.constant('0') : intString(0, 360000)),
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': attr(intString(1, 1000)),
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': attr(fc.oneof(fc.constant('off'), intString(1, 100))),
    }).map((a) =>
      // Termination on unhealthy defaults to true for TCP and must be false for UDP; say so when it matters.
      udp || !terminateUnhealthy ? { ...a, 'target_health_state.unhealthy.connection_termination.enabled': 'false' } : a,
    ),
  );
}

const matcherCode = (lo: number, hi: number) =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: lo, max: hi }).map(String),
        fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((codes) => codes.join(','));

const emulator = someOf({
  initialHealthyThresholdCount: fc.integer({ min: 1, max: 10 }),
  registrationDelaySeconds: fc.integer({ min: 0, max: 600 }),
  slowStartInitialWeight: fc.integer({ min: 1, max: 100 }).map((n) => n / 100),
  automaticTargetWeights: someOf({ windowSeconds: fc.integer({ min: 1, max: 600 }), reductionFactor: fc.constantFrom(0.25, 0.5, 1), minimumRequests: fc.integer({ min: 1, max: 100 }) }),
});

const probe = fc.oneof(
  someOf({ periodSeconds: fc.constantFrom(0.5, 1, 10), failureThreshold: fc.integer({ min: 1, max: 5 }) }).chain((p) =>
    fc.oneof(
      fc.record({ httpGet: someOf({ path: fc.constantFrom('/', '/ready', '/health?x=1'), port }) }).map((h) => ({ ...p, ...h })),
      fc.record({ tcpSocket: someOf({ port }) }).map((t) => ({ ...p, ...t })),
    ),
  ),
);
const percentOrCount = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom('25%', '0%', '100%'));
const pods = fc
  .record({
    command: fc.constant(['node', 'server.js']),
    extra: someOf({
      env: fc.dictionary(fc.constantFrom('A', 'PORT_NAME', 'yes'), fc.constantFrom('1', 'true', 'null', 'a b', '')),
      replicas: fc.integer({ min: 0, max: 5 }),
      port,
      readinessProbe: probe,
      livenessProbe: probe,
      lifecycle: fc.constantFrom({ preStop: { sleep: { seconds: 5 } } }, { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } }),
      terminationGracePeriodSeconds: fc.constantFrom(0, 1.5, 30),
      // Not both 0 (Kubernetes rejects it).
      strategy: fc.record({ rollingUpdate: fc.record({ maxSurge: percentOrCount, maxUnavailable: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom('25%', '100%')) }) }),
      readinessGate: fc.boolean(),
    }),
  })
  .map(({ command, extra }) => ({ command, ...extra }));

const propagation = someOf({ endpointsDelaySeconds: fc.constantFrom(0, 0.25, 1), registrationDelaySeconds: fc.constantFrom(0, 2), deregistrationLagSeconds: fc.constantFrom(0, 3) });

/** Targets, each with a port when the group has none. */
const targets = (groupPort: number | undefined) =>
  fc.array(
    fc.record({ id: fc.constantFrom('127.0.0.1', '::1', 'localhost', '10.0.0.7'), port: groupPort === undefined ? port : optional(port) }).map(defined),
    { maxLength: 3 },
  );

/** `protocolVersion` as a config may give it: left out (HTTP1), or one of the three (spec 12.4.1). */
type VersionInput = 'HTTP1' | 'HTTP2' | 'GRPC' | undefined;
const protocolVersion: fc.Arbitrary<VersionInput> = fc.constantFrom(undefined, 'HTTP1', 'HTTP2', 'GRPC');
/** HTTP2 and GRPC groups take HTTPS listeners only (spec 12.4.1). */
const httpsOnly = (version: VersionInput) => version === 'HTTP2' || version === 'GRPC';

/** An ALB (HTTP) target group named `name`, with an HTTP health check (a gRPC one on GRPC groups). */
const albTargetGroup = (name: string, version: VersionInput) =>
  fc
    .record({ port: optional(port), interval: optional(fc.integer({ min: 5, max: 300 })) })
    .chain(({ port: groupPort, interval }) =>
      fc
        .record({
          targetType: optional(fc.constantFrom('instance', 'ip')),
          protocol: fc.constantFrom('HTTP', 'HTTPS'),
          healthCheckProtocol: optional(fc.constantFrom('HTTP', 'HTTPS')),
          healthCheckPort: optional(fc.oneof(fc.constant('traffic-port'), port, port.map(String))),
          healthCheckPath: optional(fc.string({ unit: fc.constantFrom('a', 'Z', '9', '/', '-', '?', '=', '&', '%', '~'), maxLength: 10 }).map((p) => `/${p}`)),
          healthCheckTimeoutSeconds: optional(fc.integer({ min: 2, max: Math.min(120, interval ?? 30) })),
          healthyThresholdCount: optional(fc.integer({ min: 2, max: 10 })),
          unhealthyThresholdCount: optional(fc.integer({ min: 2, max: 10 })),
          matcher: optional<Input>(version === 'GRPC' ? matcherCode(0, 99).map((grpcCode) => ({ grpcCode })) : matcherCode(200, 499).map((httpCode) => ({ httpCode }))),
          attributes: optional(albTargetGroupAttributes),
          targets: optional(targets(groupPort)),
          emulator: optional(emulator),
          pods: optional(pods),
          propagation: optional(propagation),
        })
        // The propagation lags apply only with local pods (a config error otherwise).
        .map(({ propagation: lags, ...fields }) =>
          defined({ name, protocolVersion: version, port: groupPort, healthCheckIntervalSeconds: interval, ...fields, propagation: fields.pods ? lags : undefined }),
        ),
    );

/** An NLB target group (TCP, UDP or TCP_UDP) named `name`, with a TCP or HTTP health check. */
const nlbTargetGroup = (name: string, protocol: 'TCP' | 'UDP' | 'TCP_UDP') =>
  fc
    .record({ port: optional(port), http: fc.boolean(), interval: optional(fc.integer({ min: 10, max: 300 })) })
    .chain(({ port: groupPort, http, interval }) =>
      fc
        .record({
          targetType: optional(fc.constantFrom('instance', 'ip')),
          healthCheckPort: optional(fc.oneof(fc.constant('traffic-port'), port)),
          healthCheckPath: http ? optional(fc.constantFrom('/', '/healthz')) : fc.constant(undefined),
          matcher: http ? optional(matcherCode(200, 599).map((httpCode) => ({ httpCode }))) : fc.constant(undefined),
          healthCheckTimeoutSeconds: optional(fc.integer({ min: 2, max: Math.min(120, interval ?? 30) })),
          healthyThresholdCount: optional(fc.integer({ min: 2, max: 10 })),
          unhealthyThresholdCount: optional(fc.integer({ min: 2, max: 10 })),
          attributes: optional(nlbTargetGroupAttributes(protocol)),
          targets: optional(targets(groupPort)),
        })
        .map((fields) =>
          defined({
            name,
            protocol,
            port: groupPort,
            // An HTTP check on an NLB group must be asked for; TCP is the default, so sometimes say it and sometimes not.
            healthCheckProtocol: http ? 'HTTP' : undefined,
            healthCheckIntervalSeconds: interval,
            ...fields,
          }),
        ),
    );

const fixedResponse = fc.record({
  type: fc.constant('fixed-response'),
  fixedResponseConfig: fc
    .record({
      statusCode: fc.tuple(fc.constantFrom('2', '4', '5'), fc.integer({ min: 0, max: 99 })).map(([h, n]) => `${h}${String(n).padStart(2, '0')}`),
      extra: someOf({ contentType: fc.constantFrom('text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json'), messageBody: text }),
    })
    .map(({ statusCode, extra }) => ({ statusCode, ...extra })),
});
const redirect = fc.record({
  type: fc.constant('redirect'),
  redirectConfig: fc
    .record({
      statusCode: fc.constantFrom('HTTP_301', 'HTTP_302'),
      extra: someOf({ protocol: fc.constantFrom('HTTPS', '#{protocol}'), host: fc.constantFrom('example.com', '#{host}'), port: fc.constantFrom('443', '#{port}'), path: fc.constantFrom('/new/#{path}', '/'), query: fc.constantFrom('#{query}&x=1', '') }),
    })
    .map(({ statusCode, extra }) => ({ statusCode, ...extra })),
});
/** A forward action to one of `groups` (a name or a weighted forwardConfig), or another terminal action when `groups` is empty or `onlyForward` is off. */
function action(groups: readonly string[], onlyForward: boolean): fc.Arbitrary<Input> {
  const order = optional(fc.integer({ min: 1, max: 50000 }));
  const forward =
    groups.length === 0
      ? []
      : [
          fc.record({ type: fc.constant('forward'), targetGroupName: fc.constantFrom(...groups) }),
          fc.record({
            type: fc.constant('forward'),
            forwardConfig: fc.record({
              targetGroups: fc
                .shuffledSubarray([...groups], { minLength: 1, maxLength: onlyForward ? 1 : Math.min(5, groups.length) })
                .chain((names) => fc.tuple(...names.map((targetGroupName) => fc.record({ targetGroupName: fc.constant(targetGroupName), weight: optional(fc.integer({ min: 0, max: 999 })) }).map(defined)))),
              targetGroupStickinessConfig: optional(
                fc.oneof(fc.record({ enabled: fc.constant(true), durationSeconds: fc.integer({ min: 1, max: 604800 }) }), fc.record({ enabled: fc.constant(false) })),
              ),
            }).map(defined),
          }),
        ];
  const terminal = onlyForward ? forward : [...forward, fixedResponse, redirect];
  return fc.tuple(fc.oneof(...(terminal as fc.Arbitrary<Input>[])), order).map(([a, o]) => defined({ ...a, order: o }));
}

const values = (arb: fc.Arbitrary<string>) => fc.array(arb, { minLength: 1, maxLength: 5 });
const host = fc.constantFrom('example.com', '*.example.com', 'api.example.?', 'WWW.Example.COM');
const path = fc.constantFrom('/', '/api/*', '/img/?.png', '/a+b/(x)', '*');
const method = fc.constantFrom('GET', 'POST', 'CUSTOM_METHOD');
const cidr = fc.oneof(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, n]) => `${ip}/${n}`), fc.constantFrom('2001:db8::/32', '::1/128'));
/** One condition of each kind that may appear once, written as `values` or as the `*Config` form. */
const once = (field: string, configKey: string, arb: fc.Arbitrary<string>) =>
  fc.tuple(values(arb), fc.boolean()).map(([vs, viaConfig]) => (viaConfig ? { field, [configKey]: { values: vs } } : { field, values: vs }));
const conditions = fc
  .record({
    host: optional(once('host-header', 'hostHeaderConfig', host)),
    path: optional(once('path-pattern', 'pathPatternConfig', path)),
    method: optional(once('http-request-method', 'httpRequestMethodConfig', method)),
    source: optional(once('source-ip', 'sourceIpConfig', cidr)),
    headers: fc.array(
      fc.record({ field: fc.constant('http-header'), httpHeaderConfig: fc.record({ httpHeaderName: fc.constantFrom('X-Env', 'user-agent', 'X_Odd.Name'), values: values(fc.constantFrom('prod', '*bot*', '?')) }) }),
      { maxLength: 2 },
    ),
    queries: fc.array(
      fc.record({
        field: fc.constant('query-string'),
        queryStringConfig: fc.record({ values: fc.array(fc.record({ key: optional(fc.constantFrom('v', 'lang', '*')), value: fc.constantFrom('1', 'en*', '\\*') }).map(defined), { minLength: 1, maxLength: 3 }) }),
      }),
      { maxLength: 2 },
    ),
  })
  .map(({ host: h, path: p, method: m, source: s, headers, queries }) => [h, p, m, s, ...headers, ...queries].filter((c) => c !== undefined))
  .filter((cs) => cs.length > 0)
  .chain((cs) => fc.shuffledSubarray(cs, { minLength: 1 }));

function rules(groups: readonly string[]): fc.Arbitrary<Input[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: 50000 }), { maxLength: 3 })
    .chain((priorities) => fc.tuple(...priorities.map((priority) => fc.record({ priority: fc.constant(priority), conditions, actions: action(groups, false).map((a) => [a]) }))));
}

/** An ALB over `groups`: its HTTP listeners forward only to the HTTP1 ones, its HTTPS listeners to any. */
const applicationLoadBalancer = (name: string, groups: ReadonlyArray<{ name: string; version: VersionInput }>) =>
  fc.record({
    name: fc.constant(name),
    type: optional(fc.constant('application')),
    attributes: optional(
      someOf({
        'idle_timeout.timeout_seconds': attr(intString(1, 4000)),
        'client_keep_alive.seconds': attr(intString(60, 604800)),
        'routing.http.xff_header_processing.mode': attr(fc.constantFrom('append', 'preserve', 'remove')),
        'routing.http.xff_client_port.enabled': attr(fc.constantFrom('true', 'false')),
        'routing.http.preserve_host_header.enabled': attr(fc.constantFrom('true', 'false')),
        'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': attr(fc.constantFrom('true', 'false')),
      }),
    ),
    listeners: fc.array(
      optional(fc.constantFrom('HTTP', 'HTTPS')).chain((protocol) => {
        const reachable = groups.filter((g) => protocol === 'HTTPS' || !httpsOnly(g.version)).map((g) => g.name);
        return fc.record({
          port: fc.integer({ min: 0, max: 65535 }),
          protocol: fc.constant(protocol),
          address: optional(fc.constantFrom('127.0.0.1', '::1', '0.0.0.0')),
          defaultActions: action(reachable, false).map((a) => [a]),
          rules: optional(rules(reachable)),
          sslPolicy: optional(fc.constantFrom('ELBSecurityPolicy-2016-08', 'ELBSecurityPolicy-TLS13-1-2-2021-06', 'ELBSecurityPolicy-FS-1-2-Res-2020-10')),
          certificates: optional(
            fc.uniqueArray(fc.constantFrom('a', 'b', 'c').map((n) => ({ certificateArn: `arn:aws:acm:us-east-1:000000000000:certificate/${n}` })), { minLength: 1, maxLength: 3, selector: (c) => c.certificateArn }),
          ),
        })
          // sslPolicy and certificates belong to HTTPS listeners only.
          .map(({ sslPolicy, certificates, ...l }) => defined(l.protocol === 'HTTPS' ? { ...l, sslPolicy, certificates } : l));
      }),
      { minLength: 1, maxLength: 2 },
    ),
  }).map(defined);

/** Listener protocols that may forward to a target group of each NLB protocol (spec 1.1). */
const listenerProtocolsFor = { TCP: ['TCP'], UDP: ['UDP'], TCP_UDP: ['TCP', 'UDP', 'TCP_UDP'] } as const;

const networkLoadBalancer = (name: string, groups: ReadonlyArray<{ name: string; protocol: 'TCP' | 'UDP' | 'TCP_UDP' }>) =>
  fc.record({
    name: fc.constant(name),
    type: fc.constant('network'),
    listeners: fc.tuple(
      ...groups.map((g) =>
        fc.constantFrom(...listenerProtocolsFor[g.protocol]).chain((protocol) =>
          fc
            .record({
              port: fc.integer({ min: 0, max: 65535 }),
              protocol: protocol === 'TCP' ? optional(fc.constant('TCP')) : fc.constant(protocol),
              defaultActions: action([g.name], true).map((a) => [a]),
              attributes: protocol === 'UDP' ? fc.constant(undefined) : optional(someOf({ 'tcp.idle_timeout.seconds': attr(intString(60, 6000)) })),
            })
            .map(defined),
        ),
      ),
    ),
  });

/**
 * A valid config: up to three ALB and three NLB target groups; up to two ALBs sharing the HTTP
 * groups out between them (a group belongs to one load balancer); one NLB with a listener per
 * NLB group when there are any.
 */
const validConfig: fc.Arbitrary<Input> = fc
  .record({
    albVersions: fc.array(protocolVersion, { maxLength: 3 }),
    nlbProtocols: fc.array(fc.constantFrom('TCP', 'UDP', 'TCP_UDP'), { maxLength: 3 }),
    albs: fc.integer({ min: 0, max: 2 }),
    withNlb: fc.boolean(),
  })
  .chain(({ albVersions, nlbProtocols, albs, withNlb }) => {
    const albGroups = albVersions.length;
    const albSpecs = albVersions.map((version, i) => ({ name: `web-${i}`, version }));
    const nlbGroups = nlbProtocols.map((protocol, i) => ({ name: `tcp${i}`, protocol }));
    return fc
      .array(fc.integer({ min: 0, max: Math.max(0, albs - 1) }), { minLength: albGroups, maxLength: albGroups })
      .chain((owners) =>
        fc.record({
          targetGroups: fc.tuple(...albSpecs.map((g) => albTargetGroup(g.name, g.version)), ...nlbGroups.map((g) => nlbTargetGroup(g.name, g.protocol))),
          loadBalancers: fc.tuple(
            ...Array.from({ length: albs }, (_, i) => applicationLoadBalancer(`alb-${i}`, albSpecs.filter((_, j) => owners[j] === i))),
            ...(withNlb && nlbGroups.length > 0 ? [networkLoadBalancer('nlb', nlbGroups)] : []),
          ),
        }),
      )
      .map(withoutUnusedGates);
  });

/**
 * A readiness gate on a group no listener uses is a config error (such a group is never
 * health-checked, so a gated pod would never be Ready): take the gate off those groups.
 */
function withoutUnusedGates<T extends { targetGroups: readonly unknown[]; loadBalancers: readonly unknown[] }>(input: T): T {
  const used = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.targetGroupName === 'string') used.add(o.targetGroupName);
    for (const x of Object.values(o)) visit(x);
  };
  visit(input.loadBalancers);
  const targetGroups = input.targetGroups.map((tg) => {
    const g = tg as { name: string; pods?: { readinessGate?: boolean } };
    return g.pods?.readinessGate && !used.has(g.name) ? { ...g, pods: { ...g.pods, readinessGate: false } } : tg;
  });
  return { ...input, targetGroups };
}

// CPU-bound: each case reads 300 generated configs back through the YAML parser, about 50 ms each
// on a busy 2-core machine (a round trip took 36 s at a load average of 12, past the 30 s default).
// A deadline for a hang, not a margin any result depends on.
const PROPERTY_TIMEOUT_MS = 180_000;

describe('config round trip: parse → print → parse (local-elb validate)', { timeout: PROPERTY_TIMEOUT_MS }, () => {
  it('generates configs that parse', () => {
    fc.assert(
      fc.property(validConfig, (input) => {
        expect(() => parseConfig(input)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('reads back what `validate` prints as the same config', () => {
    fc.assert(
      fc.property(validConfig, (input) => {
        const once = parseConfig(input);
        expect(readConfigText(printAsValidate(once))).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('reads back the printed config written as YAML as the same config', () => {
    fc.assert(
      fc.property(validConfig, (input) => {
        const once = parseConfig(input);
        expect(readConfigText(stringify(printableConfig(once)))).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});
