/**
 * The one configuration schema: names follow the ELBv2 API in camelCase, every default sits
 * beside its field (AWS's defaults and ranges, spec sections 0, 2 and 4), unknown keys are an
 * error. `parseConfig` returns a frozen config or throws one ConfigError listing every issue.
 */
import { z } from 'zod';
import { DEFAULT_SSL_POLICY, sslPolicy } from '../tls/policies.ts';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import {
  applicationListenerAttributes,
  applicationLoadBalancerAttributes,
  applicationTargetGroupAttributes,
  checkApplicationTargetGroupAttributes,
  checkLoadBalancerAttributes,
  checkNetworkTargetGroupAttributes,
  networkLoadBalancerAttributes,
  networkTargetGroupAttributes,
  resolveAttributes,
  tcpListenerAttributes,
  withoutLocalEffect,
} from './attributes.ts';
import {
  authenticateCognitoActionSchema,
  authenticateOidcActionSchema,
  authenticationEmulatorDefaults,
  authenticationEmulatorFields,
  checkAuthenticationEmulator,
  checkRuleActions,
} from './authenticate.ts';
import { jwtValidationActionSchema, jwtValidationEmulatorDefaults, jwtValidationEmulatorSchema } from './jwt-validation.ts';
import { formatPath, intIn, numberIn, oneOf, secondsIn, show, strict } from './fields.ts';
import { grpcRangeMessage, parseGrpcMatcher, parseMatcher } from './matcher.ts';
import { captureGroupCount, replacementGroups, ruleRegexProblem } from './rule-regex.ts';





const name = z
  .string({ error: (iss) => `must be a string: got ${show(iss.input)}` })
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, {
    error: (iss) => `must be 1–32 letters, digits and hyphens, not starting or ending with a hyphen: got ${show(iss.input)}`,
  });

/** `Matcher.HttpCode`/`GrpcCode`: a string as the API has it; a bare YAML number (`grpcCode: 0`) is read as its string. */
const matcherCodes = z
  .union([z.string(), z.number().int().nonnegative()], { error: (iss) => `must be a string of codes such as "200-299": got ${show(iss.input)}` })
  .transform(String);

/** `ProtocolVersion` of ALB target groups (spec 1.1, 12.4.1). */
export const PROTOCOL_VERSIONS = ['HTTP1', 'HTTP2', 'GRPC'] as const;
export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

/** The default health-check path of GRPC target groups (spec 2.1, 12.4.1). */
export const GRPC_HEALTH_CHECK_PATH = '/AWS.ALB/healthcheck';

const attributeMap = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: (iss) => `must be a string: got ${show(iss.input)}` }).transform(String))
  .default({});

const targetSchema = strict({
  /** An IP address or host name the target listens on (an `ip` target; `instance` ids are resolved the same way locally). */
  id: z.string({ error: (iss) => `must be an IP address or host name: got ${show(iss.input)}` }).min(1),
  /** Overrides the target group's port for this target. */
  port: intIn(1, 65535).optional(),
});

/** Choices where AWS behaviour is UNCONFIRMED (spec 1.3); each default is documented in the README. */

/**
 * Automatic target weights (spec 3.1): the numbers AWS does not publish (UNCONFIRMED), as
 * local-elb chose them. Detection runs every `evaluationIntervalSeconds` over the outcomes of
 * the last `windowSeconds`; a target with at least `minimumRequests` outcomes in the window is
 * `anomalous` when its error ratio is at least `minimumErrorRatio` and at least
 * `errorRatioMultiple` times the error ratio of the other targets together. With mitigation on,
 * each evaluation multiplies an anomalous target's weight by `reductionFactor` (down to
 * `minimumWeight`) and a recovered one's by `recoveryFactor` (up to 1).
 */
export const automaticTargetWeightsDefaults = {
  evaluationIntervalSeconds: 5,
  windowSeconds: 30,
  minimumRequests: 20,
  minimumErrorRatio: 0.05,
  errorRatioMultiple: 3,
  reductionFactor: 0.5,
  recoveryFactor: 2,
  minimumWeight: 0.02,
} as const;

/** Slow start (spec 3.2): the weight a target starts at before rising linearly to 1 (UNCONFIRMED in AWS). */
export const slowStartInitialWeightDefault = 0.05;

const atw = automaticTargetWeightsDefaults;
export const automaticTargetWeightsSchema = strict({
  evaluationIntervalSeconds: numberIn(0, 3600, { above: true }).default(atw.evaluationIntervalSeconds),
  windowSeconds: numberIn(0, 86400, { above: true }).default(atw.windowSeconds),
  minimumRequests: intIn(1, 1_000_000).default(atw.minimumRequests),
  minimumErrorRatio: numberIn(0, 1).default(atw.minimumErrorRatio),
  errorRatioMultiple: numberIn(1, 1000).default(atw.errorRatioMultiple),
  reductionFactor: numberIn(0, 1, { above: true }).default(atw.reductionFactor),
  recoveryFactor: numberIn(1, 1000).default(atw.recoveryFactor),
  minimumWeight: numberIn(0, 1, { above: true }).default(atw.minimumWeight),
});

const emulatorSchema = strict({
  /** Passes needed to leave `initial` for `healthy` (AWS: "must pass one health check"; UNCONFIRMED). */
  initialHealthyThresholdCount: intIn(1, 10).default(1),
  /** Time spent in `initial`/`Elb.RegistrationInProgress` before the first check (NLB in the field: ~120 s). */
  registrationDelaySeconds: intIn(0, 600).default(0),
  /** Slow start's starting weight ε (spec 3.2; UNCONFIRMED): rises linearly to 1 over `slow_start.duration_seconds`. */
  slowStartInitialWeight: numberIn(0, 1, { above: true }).default(slowStartInitialWeightDefault),
  /** weighted_random's anomaly detection and mitigation (spec 3.1; every number UNCONFIRMED). */
  automaticTargetWeights: automaticTargetWeightsSchema.default({ ...automaticTargetWeightsDefaults }),
}).default({
  initialHealthyThresholdCount: 1,
  registrationDelaySeconds: 0,
  slowStartInitialWeight: slowStartInitialWeightDefault,
  automaticTargetWeights: { ...automaticTargetWeightsDefaults },
});


/** A readiness or liveness probe (Kubernetes names and defaults; seconds may be fractional locally). */
const podProbeSchema = strict({
  httpGet: strict({ path: z.string().regex(/^\//).default('/'), port: intIn(1, 65535).optional() }).optional(),
  tcpSocket: strict({ port: intIn(1, 65535).optional() }).optional(),
  initialDelaySeconds: secondsIn(0, 3600).default(0),
  periodSeconds: secondsIn(0.05, 3600).default(10),
  timeoutSeconds: secondsIn(0.05, 3600).default(1),
  successThreshold: intIn(1, 100).default(1),
  failureThreshold: intIn(1, 100).default(3),
});

const percentOrCount = z.union([intIn(0, 1000), z.string().regex(/^\d{1,3}%$/, { error: (iss) => `must be a count or a percentage like "25%": got ${show(iss.input)}` })]);

/**
 * Local pods as the target source (issue "Local pods"): child processes with the Kubernetes
 * lifecycle, each on its own loopback address (`POD_IP`) and the same port (`PORT`).
 */
const podsSchema = strict({
  command: z.array(z.string().min(1)).min(1, { error: 'needs the program and its arguments, e.g. ["node", "server.js"]' }),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  replicas: intIn(0, 100).default(1),
  /** The port every pod listens on, at its own POD_IP. */
  port: intIn(1, 65535).default(8080),
  readinessProbe: podProbeSchema.optional(),
  livenessProbe: podProbeSchema.optional(),
  lifecycle: strict({
    preStop: strict({
      sleep: strict({ seconds: secondsIn(0, 3600) }).optional(),
      exec: strict({ command: z.array(z.string()).min(1) }).optional(),
    }).optional(),
  }).optional(),
  terminationGracePeriodSeconds: secondsIn(0, 3600).default(30),
  strategy: strict({
    rollingUpdate: strict({ maxSurge: percentOrCount.default('25%'), maxUnavailable: percentOrCount.default('25%') }).default({ maxSurge: '25%', maxUnavailable: '25%' }),
  }).default({ rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }),
  /** Hold each pod not-ready until its target is `healthy` (the Load Balancer Controller's readiness gate, spec 9.5). */
  readinessGate: z.boolean().default(false),
});

/** The lags between a pod's state and the load balancer acting on it (the race behind rollout 502s). */
const propagationSchema = strict({
  /** Pod state change → endpoint change seen by the load balancer controller. */
  endpointsDelaySeconds: secondsIn(0, 600).default(1),
  /** Endpoint ready → RegisterTargets. */
  registrationDelaySeconds: secondsIn(0, 600).default(0),
  /** Endpoint gone → DeregisterTargets: the load balancer keeps sending new requests this long. */
  deregistrationLagSeconds: secondsIn(0, 600).default(0),
});

/** The lags of a target group with local pods when its config gives none. */
const propagationDefaults = { endpointsDelaySeconds: 1, registrationDelaySeconds: 0, deregistrationLagSeconds: 0 } as const;

/**
 * Fields whose default depends on the kind of target group (ALB `HTTP` vs NLB `TCP`/`UDP`/
 * `TCP_UDP`, spec 2.2 and 2.3) are optional here and filled in by `resolveTargetGroup`.
 */
const targetGroupSchema = strict({
  name,
  /** ALB: `HTTP`, `HTTPS` (TLS to targets, no certificate checks); NLB: `TCP`, `TLS`, `UDP`, `TCP_UDP`. */
  protocol: oneOf(['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP']),
  /** HTTP and HTTPS groups only (spec 12.4.1): `HTTP1` (the default), `HTTP2` or `GRPC`; HTTP2 and GRPC take HTTPS listeners only. */
  protocolVersion: oneOf(PROTOCOL_VERSIONS).optional(),
  port: intIn(1, 65535).optional(),
  targetType: oneOf(['instance', 'ip']).default('instance'),
  healthCheckProtocol: oneOf(['HTTP', 'HTTPS', 'TCP']).optional(),
  healthCheckPort: z
    .union([z.literal('traffic-port'), intIn(1, 65535), z.string().regex(/^\d+$/).transform(Number)], {
      error: (iss) => `must be "traffic-port" or a port 1–65535: got ${show(iss.input)}`,
    })
    .default('traffic-port'),
  healthCheckPath: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/, { error: (iss) => `must start with / and hold visible ASCII only: got ${show(iss.input)}` })
    .max(1024)
    .optional(),
  healthCheckEnabled: z.literal(true, { error: 'health checks cannot be disabled for instance and ip targets (spec 2.1)' }).default(true),
  healthCheckIntervalSeconds: intIn(5, 300).default(30),
  healthCheckTimeoutSeconds: intIn(2, 120).optional(),
  healthyThresholdCount: intIn(2, 10).default(5),
  unhealthyThresholdCount: intIn(2, 10).default(2),
  /**
   * Exactly one of `httpCode` (ALB 200–499, default `200`; NLB 200–599, default `200-399`) or,
   * on GRPC groups, `grpcCode` (0–99, default `12`): spec 2.1, 12.4.4.
   */
  matcher: strict({ httpCode: matcherCodes.optional(), grpcCode: matcherCodes.optional() }).optional(),
  attributes: attributeMap,
  targets: z.array(targetSchema).default([]),
  emulator: emulatorSchema,
  pods: podsSchema.optional(),
  /** Only with `pods` (the lags between a pod and its target). */
  propagation: propagationSchema.optional(),
});

const conditionValues = z.array(z.string().min(1)).min(1).max(5);
/** Rule regexes (spec 6.2): ≤ 128 characters, compiled, none of the features AWS refuses (rule-regex.ts). */
const regexValues = z
  .array(
    z
      .string()
      .min(1)
      .max(128)
      .superRefine((v, ctx) => {
        const problem = ruleRegexProblem(v);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `must be a regular expression AWS accepts: ${problem}: got ${show(v)}` });
      }),
  )
  .min(1)
  .max(5);
const conditionSchema = strict({
  field: oneOf(['host-header', 'path-pattern', 'http-header', 'http-request-method', 'query-string', 'source-ip']),
  values: conditionValues.optional(),
  /** host-header, path-pattern and http-header take `values` (wildcards) or `regexValues` (regular expressions), not both. */
  hostHeaderConfig: strict({ values: conditionValues.optional(), regexValues: regexValues.optional() }).optional(),
  pathPatternConfig: strict({ values: conditionValues.optional(), regexValues: regexValues.optional() }).optional(),
  httpHeaderConfig: strict({ httpHeaderName: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/), values: conditionValues.optional(), regexValues: regexValues.optional() }).optional(),
  httpRequestMethodConfig: strict({ values: conditionValues }).optional(),
  queryStringConfig: strict({ values: z.array(strict({ key: z.string().optional(), value: z.string() })).min(1).max(5) }).optional(),
  sourceIpConfig: strict({ values: conditionValues }).optional(),
});

const forwardAction = strict({
  type: z.literal('forward'),
  order: intIn(1, 50000).optional(),
  targetGroupName: name.optional(),
  forwardConfig: strict({
    targetGroups: z.array(strict({ targetGroupName: name, weight: intIn(0, 999).default(1) })).min(1).max(5),
    /** Target group stickiness (spec 3.4): the AWSALBTG cookie keeps a client on one group; `durationSeconds` (1–604800) is required when enabled. */
    targetGroupStickinessConfig: strict({ enabled: z.boolean().default(false), durationSeconds: intIn(1, 604800).optional() }).optional(),
  }).optional(),
});
const fixedResponseAction = strict({
  type: z.literal('fixed-response'),
  order: intIn(1, 50000).optional(),
  fixedResponseConfig: strict({
    statusCode: z.string().regex(/^[245]\d\d$/, { error: (iss) => `must match ^(2|4|5)\\d\\d$: got ${show(iss.input)}` }),
    contentType: oneOf(['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json']).optional(),
    messageBody: z.string().max(1024).optional(),
  }),
});
const redirectAction = strict({
  type: z.literal('redirect'),
  order: intIn(1, 50000).optional(),
  redirectConfig: strict({
    protocol: z.string().default('#{protocol}'),
    host: z.string().max(128).default('#{host}'),
    port: z.string().default('#{port}'),
    path: z.string().max(128).default('/#{path}'),
    query: z.string().max(128).default('#{query}'),
    statusCode: oneOf(['HTTP_301', 'HTTP_302']),
  }),
});
const actionSchema = z.discriminatedUnion('type', [forwardAction, fixedResponseAction, redirectAction, authenticateOidcActionSchema, authenticateCognitoActionSchema, jwtValidationActionSchema], {
  error: (iss) => `type must be one of forward | fixed-response | redirect | authenticate-oidc | authenticate-cognito | jwt-validation: got ${show((iss.input as { type?: unknown } | undefined)?.type)}`,
});
const actionsSchema = z.array(actionSchema).min(1, { error: 'needs at least one action' });

/** One regex and its replacement (`$1` capture groups), ≤ 1024 characters each (spec 6.1). */
const rewriteSchema = strict({
  regex: z
    .string()
    .min(1)
    .max(1024)
    .superRefine((v, ctx) => {
      const problem = ruleRegexProblem(v);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `must be a regular expression AWS accepts: ${problem}: got ${show(v)}` });
    }),
  replace: z.string().max(1024),
});
/**
 * Rule transforms (spec 6.1, AWS's RuleTransform): one host-header-rewrite and one url-rewrite
 * per rule, applied after matching; no match leaves the request as it is, a failed rewrite is a 500.
 */
const transformSchema = z.discriminatedUnion(
  'type',
  [
    strict({ type: z.literal('host-header-rewrite'), hostHeaderRewriteConfig: strict({ rewrites: z.array(rewriteSchema).length(1) }) }),
    strict({ type: z.literal('url-rewrite'), urlRewriteConfig: strict({ rewrites: z.array(rewriteSchema).length(1) }) }),
  ],
  { error: (iss) => `type must be one of host-header-rewrite | url-rewrite: got ${show((iss.input as { type?: unknown } | undefined)?.type)}` },
);

const ruleSchema = strict({
  priority: intIn(1, 50000),
  conditions: z.array(conditionSchema).min(1),
  actions: actionsSchema,
  transforms: z.array(transformSchema).max(2).optional(),
});

const listenerCertificate = strict({ certificateArn: z.string().min(1) });

/** An HTTPS listener's mutual TLS (spec 12.1.7: the API's `MutualAuthenticationAttributes`, defaults beside them). */
const mutualAuthenticationSchema = strict({
  /** `off` (the default), `passthrough` (any certificate, sent on in `X-Amzn-Mtls-Clientcert`) or `verify` (against the trust store). */
  mode: oneOf(['off', 'passthrough', 'verify']).default('off'),
  /** verify only: a `trustStores:` name, or its ARN (`…:truststore/<name>/<id>`). */
  trustStore: z.string().min(1).optional(),
  /** verify only: accept an expired leaf certificate (default false). */
  ignoreClientCertificateExpiry: z.boolean().optional(),
  /** verify only: list the trust store's CA names in the CertificateRequest (default `off`). */
  advertiseTrustStoreCaNames: oneOf(['on', 'off']).optional(),
});

const listenerSchema = strict({
  /** 0 asks the OS for a free port (tests); AWS listeners use 1–65535. */
  port: intIn(0, 65535),
  /** ALB: `HTTP` (the default) or `HTTPS`; NLB: `TCP` (the default), `TLS`, `UDP` or `TCP_UDP`. */
  protocol: oneOf(['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP']).optional(),
  /** HTTPS and TLS listeners: an AWS security policy name (default `ELBSecurityPolicy-2016-08`, as the API's). */
  sslPolicy: z.string().optional(),
  /**
   * HTTPS and TLS listeners: the first is the default certificate, the others the certificate
   * list SNI chooses from (spec 12.1.1). An ARN that `certificates:` at the top does not map to
   * files is issued by the local CA. Omitted: one certificate issued for the listener's names.
   */
  certificates: z.array(listenerCertificate).min(1).max(26).optional(),
  /** NLB TLS listeners (spec 12.6.3). */
  alpnPolicy: z.string().optional(),
  /** ALB HTTPS listeners: mutual TLS (spec 12.1.7); absent is `mode: off`. */
  mutualAuthentication: mutualAuthenticationSchema.optional(),
  /** Address to bind on this machine; loopback unless you mean to expose it. */
  address: z.string().default('127.0.0.1'),
  defaultActions: actionsSchema,
  rules: z.array(ruleSchema).default([]),
  /** Listener attributes (spec 4.6): `tcp.idle_timeout.seconds` on NLB TCP listeners. */
  attributes: attributeMap,
});

/** A certificate as ACM would hold it: its ARN, and PEM files here (spec 12.1.1). */
const certificateSchema = strict({
  certificateArn: z.string().regex(/^arn:[^:]+:(acm|iam):/, { error: (iss) => `must be an ACM or IAM certificate ARN (arn:aws:acm:…): got ${show(iss.input)}` }),
  /** The certificate (and its chain), PEM; relative to the config file. */
  certificateFile: z.string().min(1),
  /** Its private key, PEM (unencrypted). */
  privateKeyFile: z.string().min(1),
});

/** A trust store (spec 12.1.7): the CA bundle and CRLs the API reads from S3 are local files here. */
const trustStoreSchema = strict({
  name,
  /** PEM CA bundle (AWS's bundle rules are checked when the listener starts); relative to the config file. */
  caCertificatesBundleFile: z.string().min(1),
  /** PEM CRLs (`AddTrustStoreRevocations`, RevocationType CRL), at most 30; relative to the config file. */
  revocationFiles: z.array(z.string().min(1)).max(30).default([]),
});

/** Load balancer behaviours AWS fixes but tests want to set (application load balancers). */
const loadBalancerEmulatorSchema = strict({
  /** HTTP/2: requests a client connection serves before GOAWAY (AWS: 10,000; spec 12.3). */
  http2RequestsPerConnection: intIn(1, 1_000_000).default(10_000),
  /**
   * Load-balancer-made errors on gRPC requests: also a trailers-only `grpc-status` (502/503/504
   * → 14, 464 → 12, 400 → 13, others 2). AWS sends plain HTTP statuses (spec 12.4.3); off.
   */
  grpcStatusOnErrors: z.boolean().default(false),
  /**
   * Listener response header attributes (spec 13.3.1) also modify the load balancer's own
   * responses (fixed responses, redirects, error pages): UNCONFIRMED in AWS's docs; on.
   */
  modifyLoadBalancerResponses: z.boolean().default(true),
  /**
   * `X-Amzn-Mtls-Clientcert`/`-Leaf` PEM encoding (spec 12.1.7, UNCONFIRMED): `escape-equals`
   * (AWS's example: `=` as `%3D`) or `keep-equals` (AWS's text: `+`, `=`, `/` left as they are).
   */
  mtlsPemEncoding: oneOf(['escape-equals', 'keep-equals']).default('escape-equals'),
  /** passthrough mode, a client that sends no certificate (spec 12.1.7, UNCONFIRMED): `forward` without the header, or `reject` the handshake. */
  mtlsPassthroughWithoutCertificate: oneOf(['forward', 'reject']).default('forward'),
  /** The local identity provider of authenticate-oidc/-cognito actions (src/config/authenticate.ts, spec 13.2). */
  ...authenticationEmulatorFields,
  /** jwt-validation actions where AWS does not say (src/config/jwt-validation.ts, README "JWT validation"). */
  jwtValidation: jwtValidationEmulatorSchema.default({ ...jwtValidationEmulatorDefaults }),
}).default({
  http2RequestsPerConnection: 10_000,
  grpcStatusOnErrors: false,
  modifyLoadBalancerResponses: true,
  mtlsPemEncoding: 'escape-equals',
  mtlsPassthroughWithoutCertificate: 'forward',
  ...authenticationEmulatorDefaults,
  jwtValidation: { ...jwtValidationEmulatorDefaults },
});

const loadBalancerSchema = strict({
  name,
  type: oneOf(['application', 'network']).default('application'),
  attributes: attributeMap,
  emulator: loadBalancerEmulatorSchema,
  /** `[]` is allowed, as in AWS (CreateLoadBalancer makes one before CreateListener gives it any). */
  listeners: z.array(listenerSchema),
});

export const configSchema = strict({
  targetGroups: z.array(targetGroupSchema).default([]),
  loadBalancers: z.array(loadBalancerSchema).default([]),
  /** Certificate ARNs mapped to your own PEM files; other ARNs are issued by the local CA. */
  certificates: z.array(certificateSchema).default([]),
  /** Trust stores for HTTPS listeners in mutual TLS verify mode, by name. */
  trustStores: z.array(trustStoreSchema).default([]),
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;
type ParsedTargetGroup = Parsed['targetGroups'][number];
type ParsedLoadBalancer = Parsed['loadBalancers'][number];
type ParsedListener = ParsedLoadBalancer['listeners'][number];

/** `application` for ALB target groups (HTTP), `network` for NLB ones (TCP, UDP, TCP_UDP). */
export type TargetGroupKind = 'application' | 'network';

export function targetGroupKind(protocol: ParsedTargetGroup['protocol']): TargetGroupKind {
  return protocol === 'HTTP' || protocol === 'HTTPS' ? 'application' : 'network';
}

/**
 * A health-check matcher in the API's shape (spec 2.1): HTTP status codes, or gRPC status codes
 * on GRPC target groups. Exactly one is set; the key says which kind it is.
 */
export type MatcherConfig =
  | { readonly httpCode: string; readonly grpcCode?: undefined }
  | { readonly grpcCode: string; readonly httpCode?: undefined };

/** A target group with every default filled for its kind. */
export interface TargetGroupConfig
  extends Omit<ParsedTargetGroup, 'healthCheckProtocol' | 'healthCheckTimeoutSeconds' | 'matcher' | 'healthCheckPath' | 'protocolVersion'> {
  readonly kind: TargetGroupKind;
  /** ALB groups: `HTTP1` unless set; NLB groups have none. */
  readonly protocolVersion?: ProtocolVersion;
  readonly healthCheckProtocol: 'HTTP' | 'HTTPS' | 'TCP';
  readonly healthCheckTimeoutSeconds: number;
  readonly healthCheckPath: string;
  readonly matcher: MatcherConfig;
}
/** Mutual TLS of an HTTPS listener, defaults filled; `trustStore` is the store's name. */
export interface MutualAuthenticationConfig {
  readonly mode: 'off' | 'passthrough' | 'verify';
  readonly trustStore?: string;
  readonly ignoreClientCertificateExpiry: boolean;
  readonly advertiseTrustStoreCaNames: 'on' | 'off';
}
export type TrustStoreConfig = Parsed['trustStores'][number];

export interface ListenerConfig extends Omit<ParsedListener, 'protocol' | 'sslPolicy' | 'alpnPolicy' | 'mutualAuthentication'> {
  readonly protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'TLS' | 'UDP' | 'TCP_UDP';
  /** HTTPS and TLS listeners: the security policy (defaulted); undefined on others. */
  readonly sslPolicy?: string;
  /** TLS listeners: the ALPN policy (default `None`); undefined on others. */
  readonly alpnPolicy?: AlpnPolicyName;
  /** HTTPS listeners that set it: mutual TLS (undefined is off). */
  readonly mutualAuthentication?: MutualAuthenticationConfig;
}
export type CertificateConfig = Parsed['certificates'][number];
export interface LoadBalancerConfig extends Omit<ParsedLoadBalancer, 'listeners'> {
  readonly listeners: readonly ListenerConfig[];
}
export type RuleConfig = ListenerConfig['rules'][number];
export type ActionConfig = ListenerConfig['defaultActions'][number];
export type ConditionConfig = RuleConfig['conditions'][number];
export type TransformConfig = NonNullable<RuleConfig['transforms']>[number];
export type TargetConfig = ParsedTargetGroup['targets'][number];
export type PodsConfig = NonNullable<ParsedTargetGroup['pods']>;
export type PodProbeConfig = NonNullable<PodsConfig['readinessProbe']>;
export type PropagationConfig = NonNullable<ParsedTargetGroup['propagation']>;

export interface Config {
  readonly targetGroups: readonly TargetGroupConfig[];
  readonly loadBalancers: readonly LoadBalancerConfig[];
  readonly certificates: readonly CertificateConfig[];
  readonly trustStores: readonly TrustStoreConfig[];
}


/**
 * Validates a configuration object (already read from YAML or JSON). `source` names where it
 * came from, for the error message. Returns a deeply frozen config with every default filled.
 */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  if (isParsedConfig(input)) return input;
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  const issues: ConfigIssue[] = [];
  const config = resolveConfig(result.data, issues);
  if (issues.length > 0) throw new ConfigError(source, issues);
  parsed.add(config);
  return deepFreeze(config);
}

const parsed = new WeakSet<object>();

/** True for the objects `parseConfig` returned (already validated, defaults filled, frozen). */
export function isParsedConfig(value: unknown): value is Config {
  return typeof value === 'object' && value !== null && parsed.has(value);
}

/** Fills the defaults that depend on the target group's kind (spec 2.2, 2.3, 4.4, 4.5). */
function resolveTargetGroup(tg: ParsedTargetGroup, at: string, issues: ConfigIssue[]): TargetGroupConfig {
  const kind = targetGroupKind(tg.protocol);
  // ALB: the target group's own protocol (spec 2.1); NLB: TCP.
  const healthCheckProtocol = tg.healthCheckProtocol ?? (kind === 'application' ? (tg.protocol as 'HTTP' | 'HTTPS') : 'TCP');
  if (kind === 'application' && healthCheckProtocol === 'TCP') {
    issues.push({ path: `${at}.healthCheckProtocol`, message: `must be HTTP | HTTPS for an ${tg.protocol} target group (spec 2.1): got "TCP"` });
  }
  const http = healthCheckProtocol !== 'TCP';
  if (!http && tg.healthCheckPath !== undefined) issues.push({ path: `${at}.healthCheckPath`, message: 'applies to HTTP and HTTPS health checks only; healthCheckProtocol is TCP' });
  if (!http && tg.matcher !== undefined) issues.push({ path: `${at}.matcher`, message: 'applies to HTTP and HTTPS health checks only; healthCheckProtocol is TCP' });
  // NLB: 6 s for HTTP checks, 10 s for TCP and HTTPS checks (spec 2.3).
  const timeout = tg.healthCheckTimeoutSeconds ?? (kind === 'application' ? 5 : healthCheckProtocol === 'HTTP' ? 6 : 10);
  // Whether AWS rejects timeout >= interval is UNCONFIRMED (spec 2.1); the Load Balancer
  // Controller's own NLB defaults are interval 10, timeout 10, so equal must be allowed.
  if (timeout > tg.healthCheckIntervalSeconds) {
    issues.push({
      path: `${at}.healthCheckTimeoutSeconds`,
      message: `must not exceed healthCheckIntervalSeconds (${tg.healthCheckIntervalSeconds}): got ${timeout}${tg.healthCheckTimeoutSeconds === undefined ? ' (the default for this kind of health check)' : ''}`,
    });
  }
  if (kind === 'network' && tg.protocolVersion !== undefined) {
    issues.push({ path: `${at}.protocolVersion`, message: `applies to HTTP and HTTPS target groups only (spec 12.4.1); this one is ${tg.protocol}` });
  }
  const protocolVersion = kind === 'application' ? (tg.protocolVersion ?? 'HTTP1') : undefined;
  const matcher = resolveMatcher(tg.matcher, kind, protocolVersion, `${at}.matcher`, issues);
  const catalogue = kind === 'application' ? applicationTargetGroupAttributes : networkTargetGroupAttributes(tg.protocol, tg.targetType);
  const attributes = resolveAttributes(catalogue, tg.attributes, `${at}.attributes`, undefined, {
    resource: 'Target group',
    kind: `${kind === 'application' ? 'application' : 'network'} load balancer target groups`,
    elsewhere: kind === 'application' ? networkTargetGroupAttributes('TCP', 'ip') : applicationTargetGroupAttributes,
  });
  if (attributes.ok) {
    if (kind === 'network') issues.push(...checkNetworkTargetGroupAttributes(tg.protocol, attributes.attributes, `${at}.attributes`));
    else issues.push(...checkApplicationTargetGroupAttributes(attributes.attributes, `${at}.attributes`));
  } else issues.push(...attributes.issues);
  if (tg.pods !== undefined) {
    for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
      const p = tg.pods[probe];
      if (p !== undefined && (p.httpGet === undefined) === (p.tcpSocket === undefined)) {
        issues.push({ path: `${at}.pods.${probe}`, message: 'needs exactly one of httpGet or tcpSocket' });
      }
    }
    const preStop = tg.pods.lifecycle?.preStop;
    if (preStop !== undefined && (preStop.sleep === undefined) === (preStop.exec === undefined)) {
      issues.push({ path: `${at}.pods.lifecycle.preStop`, message: 'needs exactly one of sleep or exec' });
    }
    const { maxSurge, maxUnavailable } = tg.pods.strategy.rollingUpdate;
    if ((maxSurge === 0 || maxSurge === '0%') && (maxUnavailable === 0 || maxUnavailable === '0%')) {
      issues.push({ path: `${at}.pods.strategy.rollingUpdate`, message: 'maxSurge and maxUnavailable cannot both be 0 (Kubernetes rejects it)' });
    }
  }
  if (tg.pods === undefined && tg.propagation !== undefined) {
    issues.push({ path: `${at}.propagation`, message: 'applies only to a target group with local pods (pods:)' });
  }
  tg.targets.forEach((t, j) => {
    if (t.port === undefined && tg.port === undefined) {
      issues.push({ path: `${at}.targets[${j}].port`, message: 'is required when the target group has no port' });
    }
  });
  return {
    ...tg,
    kind,
    healthCheckProtocol,
    healthCheckTimeoutSeconds: timeout,
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
    healthCheckPath: tg.healthCheckPath ?? (protocolVersion === 'GRPC' ? GRPC_HEALTH_CHECK_PATH : '/'),
    matcher,
    propagation: tg.pods === undefined ? undefined : { ...propagationDefaults, ...tg.propagation },
    attributes: attributes.ok ? attributes.attributes : tg.attributes,
  };
}

/**
 * The matcher with its default (spec 2.2, 2.3, 12.4.1): GRPC groups take `grpcCode` (0–99,
 * default `12`) and refuse `httpCode` with AWS's message; the others take `httpCode`.
 */
function resolveMatcher(
  given: ParsedTargetGroup['matcher'],
  kind: TargetGroupKind,
  protocolVersion: ProtocolVersion | undefined,
  at: string,
  issues: ConfigIssue[],
): MatcherConfig {
  if (given !== undefined && (given.httpCode === undefined) === (given.grpcCode === undefined)) {
    issues.push({ path: at, message: `needs exactly one of httpCode or grpcCode (grpcCode on GRPC target groups only): got ${show(given)}` });
  }
  if (protocolVersion === 'GRPC') {
    if (given?.httpCode !== undefined) {
      issues.push({ path: `${at}.httpCode`, message: `a GRPC target group matches gRPC status codes: use grpcCode (0–99, default "12"); ${grpcRangeMessage(given.httpCode)}` });
    }
    const grpcCode = given?.grpcCode ?? '12';
    const parsed = parseGrpcMatcher(grpcCode);
    if (!parsed.ok) issues.push({ path: `${at}.grpcCode`, message: parsed.message });
    return { grpcCode };
  }
  if (given?.grpcCode !== undefined) {
    issues.push({ path: `${at}.grpcCode`, message: `applies to GRPC target groups only (protocolVersion: GRPC); this one is ${protocolVersion ?? 'a network target group'}` });
  }
  const httpCode = given?.httpCode ?? (kind === 'application' ? '200' : '200-399');
  const [lo, hi] = kind === 'application' ? [200, 499] : [200, 599];
  const parsed = parseMatcher(httpCode, lo, hi);
  if (!parsed.ok) issues.push({ path: `${at}.httpCode`, message: parsed.message });
  return { httpCode };
}

/** Listener protocol → target group protocols it may forward to (spec 1.1). */
const compatibleProtocols: Readonly<Record<ListenerConfig['protocol'], readonly string[]>> = {
  HTTP: ['HTTP', 'HTTPS'],
  HTTPS: ['HTTP', 'HTTPS'],
  TCP: ['TCP', 'TCP_UDP'],
  TLS: ['TCP', 'TLS'],
  UDP: ['UDP', 'TCP_UDP'],
  TCP_UDP: ['TCP_UDP'],
};

/** NLB ALPN policies (spec 12.6.3), in AWS's spelling. */
export const ALPN_POLICIES = ['None', 'HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred'] as const;
export type AlpnPolicyName = (typeof ALPN_POLICIES)[number];

/**
 * The attributes of `config` set to a value other than their default that are accepted but
 * change nothing on this machine (S3 logs, deletion protection, cross-zone…), with why: the
 * runtime logs each once at startup (issue #13).
 */
export function attributesWithoutLocalEffect(config: Config): Array<{ readonly path: string; readonly key: string; readonly value: string; readonly why: string }> {
  const out: Array<{ path: string; key: string; value: string; why: string }> = [];
  const add = (path: string, found: ReturnType<typeof withoutLocalEffect>) => {
    for (const f of found) out.push({ path: `${path}["${f.key}"]`, ...f });
  };
  config.loadBalancers.forEach((lb, i) => {
    add(`loadBalancers[${i}].attributes`, withoutLocalEffect(lb.type === 'network' ? networkLoadBalancerAttributes : applicationLoadBalancerAttributes, lb.attributes));
    lb.listeners.forEach((l, j) => add(`loadBalancers[${i}].listeners[${j}].attributes`, withoutLocalEffect(listenerAttributeCatalogue(l.protocol), l.attributes)));
  });
  config.targetGroups.forEach((tg, i) =>
    add(`targetGroups[${i}].attributes`, withoutLocalEffect(tg.kind === 'application' ? applicationTargetGroupAttributes : networkTargetGroupAttributes(tg.protocol, tg.targetType), tg.attributes)),
  );
  return out;
}

/** A listener's attribute catalogue by its protocol (spec 13.4.2): TLS and UDP listeners have none. */
export function listenerAttributeCatalogue(protocol: string) {
  if (protocol === 'TCP' || protocol === 'TCP_UDP') return tcpListenerAttributes;
  if (protocol === 'HTTP' || protocol === 'HTTPS') return applicationListenerAttributes(protocol);
  return {};
}

function resolveConfig(config: Parsed, issues: ConfigIssue[]): Config {
  const groups = new Map<string, TargetGroupConfig>();
  const targetGroups = config.targetGroups.map((tg, i) => {
    const at = `targetGroups[${i}]`;
    if (groups.has(tg.name)) issues.push({ path: `${at}.name`, message: `duplicate target group name ${JSON.stringify(tg.name)}` });
    const resolved = resolveTargetGroup(tg, at, issues);
    groups.set(tg.name, resolved);
    return resolved;
  });

  const trustStoreNames = new Set<string>();
  config.trustStores.forEach((t, i) => {
    if (trustStoreNames.has(t.name)) issues.push({ path: `trustStores[${i}].name`, message: `duplicate trust store name ${JSON.stringify(t.name)} (DuplicateTrustStoreName)` });
    trustStoreNames.add(t.name);
  });
  const lbNames = new Set<string>();
  const usedBy = new Map<string, string>();
  const loadBalancers = config.loadBalancers.map((lb, i): LoadBalancerConfig => {
    const at = `loadBalancers[${i}]`;
    if (lbNames.has(lb.name)) issues.push({ path: `${at}.name`, message: `duplicate load balancer name ${JSON.stringify(lb.name)}` });
    lbNames.add(lb.name);
    const network = lb.type === 'network';
    const lbAttributes = resolveAttributes(network ? networkLoadBalancerAttributes : applicationLoadBalancerAttributes, lb.attributes, `${at}.attributes`, undefined, {
      resource: 'Load balancer',
      kind: `load balancers with type '${lb.type}'`,
      elsewhere: network ? applicationLoadBalancerAttributes : networkLoadBalancerAttributes,
    });
    if (!lbAttributes.ok) issues.push(...lbAttributes.issues);
    else issues.push(...checkLoadBalancerAttributes(lbAttributes.attributes, `${at}.attributes`));
    if (!network) issues.push(...checkAuthenticationEmulator(lb.emulator, `${at}.emulator`));
    // On one ALB the secure listeners are all FIPS or all non-FIPS (spec 12.1.3).
    let firstSecure: { readonly path: string; readonly policy: string; readonly fips: boolean } | undefined;
    const listeners = lb.listeners.map((listener, j): ListenerConfig => {
      const lat = `${at}.listeners[${j}]`;
      const protocol = listener.protocol ?? (network ? 'TCP' : 'HTTP');
      if (network === (protocol === 'HTTP' || protocol === 'HTTPS')) {
        issues.push({ path: `${lat}.protocol`, message: `must be ${network ? 'TCP | TLS | UDP | TCP_UDP on a network' : 'HTTP | HTTPS on an application'} load balancer: got ${JSON.stringify(protocol)}` });
      }
      const secure = protocol === 'HTTPS' || protocol === 'TLS';
      let policyName: string | undefined;
      if (secure) {
        policyName = listener.sslPolicy ?? DEFAULT_SSL_POLICY;
        try {
          const { fips } = sslPolicy(policyName, network ? 'network' : 'application', 'it');
          if (!network && firstSecure === undefined) firstSecure = { path: lat, policy: policyName, fips };
          else if (!network && firstSecure !== undefined && firstSecure.fips !== fips) {
            const kind = (f: boolean) => (f ? 'a FIPS policy' : 'a non-FIPS policy');
            issues.push({
              path: `${lat}.sslPolicy`,
              message: `the secure listeners of an application load balancer must all use FIPS policies or all non-FIPS ones (InvalidConfigurationRequest): ${firstSecure.path} has ${firstSecure.policy} (${kind(firstSecure.fips)}), this one ${policyName} (${kind(fips)})`,
            });
          }
        } catch (err) {
          issues.push({ path: `${lat}.sslPolicy`, message: `${(err as Error).message} (SSLPolicyNotFound)` });
        }
      } else {
        for (const field of ['sslPolicy', 'certificates'] as const) {
          if (listener[field] !== undefined) issues.push({ path: `${lat}.${field}`, message: `applies to HTTPS and TLS listeners only; this one is ${protocol}` });
        }
      }
      let alpnPolicy: AlpnPolicyName | undefined;
      if (protocol === 'TLS') {
        alpnPolicy = (listener.alpnPolicy ?? 'None') as AlpnPolicyName;
        if (!(ALPN_POLICIES as readonly string[]).includes(alpnPolicy)) {
          issues.push({ path: `${lat}.alpnPolicy`, message: `must be ${ALPN_POLICIES.join(' | ')} (ALPNPolicyNotFound): got ${JSON.stringify(listener.alpnPolicy)}` });
        }
      } else if (listener.alpnPolicy !== undefined) {
        issues.push({ path: `${lat}.alpnPolicy`, message: `applies to NLB TLS listeners only (ALPNPolicyNotFound); this one is ${protocol}` });
      }
      if (network && listener.rules.length > 0) issues.push({ path: `${lat}.rules`, message: 'network load balancers have no listener rules (only a default forward action)' });
      const catalogue = listenerAttributeCatalogue(protocol);
      const listenerAttributes = resolveAttributes(catalogue, listener.attributes, `${lat}.attributes`, undefined, {
        resource: 'Listener',
        kind: `${protocol} listeners`,
        elsewhere: { ...tcpListenerAttributes, ...applicationListenerAttributes('HTTPS') },
      });
      if (protocol === 'TLS' && Object.keys(listener.attributes).length > 0) {
        // The NLB's TLS listeners have no attributes: their idle timeout is fixed (spec 12.6.5).
        issues.push({
          path: `${lat}.attributes`,
          message: `a TLS listener takes no attributes: its idle timeout is fixed at 350 s (spec 12.6.5) and tcp.idle_timeout.seconds applies to TCP listeners only; got ${Object.keys(listener.attributes).map((k) => JSON.stringify(k)).join(', ')}`,
        });
      } else if (!listenerAttributes.ok) issues.push(...listenerAttributes.issues);
      const priorities = new Set<number>();
      const checkActions = (actions: readonly ActionConfig[], path: string) => {
        issues.push(...checkRuleActions(actions, path, protocol, lb.emulator.jwtValidation));
        actions.forEach((action, k) => {
          const apath = `${path}[${k}]`;
          if (action.type !== 'forward') {
            if (network) issues.push({ path: apath, message: `network load balancers only forward: got ${JSON.stringify(action.type)}` });
            return;
          }
          const names = forwardedGroupNames(action);
          if (names.length === 0 || (action.targetGroupName && action.forwardConfig)) {
            issues.push({ path: apath, message: 'a forward action needs exactly one of targetGroupName or forwardConfig' });
          }
          if (network && names.length > 1) issues.push({ path: apath, message: 'a network load balancer forwards to one target group' });
          checkGroupStickiness(action, apath, groups, issues);
          for (const tgName of names) {
            const group = groups.get(tgName);
            if (group === undefined) {
              issues.push({ path: apath, message: `names target group ${JSON.stringify(tgName)}, which is not defined; defined: ${[...groups.keys()].join(', ') || 'none'}` });
              continue;
            }
            if (!compatibleProtocols[protocol].includes(group.protocol)) {
              issues.push({ path: apath, message: `a ${protocol} listener cannot forward to ${group.protocol} target group ${JSON.stringify(tgName)}; it takes ${compatibleProtocols[protocol].join(' | ')} (spec 1.1)` });
            } else if ((group.protocolVersion === 'HTTP2' || group.protocolVersion === 'GRPC') && protocol !== 'HTTPS') {
              issues.push({ path: apath, message: `a ${protocol} listener cannot forward to ${group.protocolVersion} target group ${JSON.stringify(tgName)}; protocolVersion ${group.protocolVersion} takes HTTPS listeners only (spec 12.4.1)` });
            }
            const owner = usedBy.get(tgName);
            if (owner !== undefined && owner !== lb.name) {
              issues.push({ path: apath, message: `target group ${JSON.stringify(tgName)} is already used by load balancer ${JSON.stringify(owner)}; AWS allows one load balancer per target group` });
            }
            usedBy.set(tgName, lb.name);
          }
        });
        // HTTP2 and GRPC target groups allow only forward (spec 6.3, 12.4.1): a rule that uses
        // one holds no other action (an authenticate-* step, once there are any, included).
        const endToEnd = actions.flatMap(forwardedGroupNames).map((n) => groups.get(n)).find((g) => g?.protocolVersion === 'HTTP2' || g?.protocolVersion === 'GRPC');
        if (endToEnd !== undefined) {
          actions.forEach((action, k) => {
            if (action.type !== 'forward') issues.push({ path: `${path}[${k}]`, message: `a rule that forwards to ${endToEnd.protocolVersion} target group ${JSON.stringify(endToEnd.name)} may only forward (spec 6.3): got ${JSON.stringify(action.type)}` });
          });
        }
      };
      checkActions(listener.defaultActions, `${lat}.defaultActions`);
      listener.rules.forEach((rule, k) => {
        const rat = `${lat}.rules[${k}]`;
        if (priorities.has(rule.priority)) issues.push({ path: `${rat}.priority`, message: `duplicate priority ${rule.priority} on this listener` });
        priorities.add(rule.priority);
        checkActions(rule.actions, `${rat}.actions`);
        checkConditions(rule.conditions, `${rat}.conditions`, issues);
        if (rule.transforms !== undefined) issues.push(...checkTransforms(rule.transforms, `${rat}.transforms`));
      });
      const mutualAuthentication = resolveMutualAuthentication(listener.mutualAuthentication, protocol, `${lat}.mutualAuthentication`, trustStoreNames, issues);
      const { sslPolicy: _policy, alpnPolicy: _alpn, mutualAuthentication: _mtls, ...rest } = listener;
      return {
        ...rest,
        protocol,
        ...(policyName !== undefined ? { sslPolicy: policyName } : {}),
        ...(alpnPolicy !== undefined ? { alpnPolicy } : {}),
        ...(mutualAuthentication !== undefined ? { mutualAuthentication } : {}),
        attributes: listenerAttributes.ok ? listenerAttributes.attributes : listener.attributes,
      };
    });
    return { ...lb, attributes: lbAttributes.ok ? lbAttributes.attributes : lb.attributes, listeners };
  });
  targetGroups.forEach((tg, i) => {
    if (tg.pods?.readinessGate && !usedBy.has(tg.name)) {
      issues.push({
        path: `targetGroups[${i}].pods.readinessGate`,
        message: `needs a listener that forwards to target group ${JSON.stringify(tg.name)}: a group no listener uses is not health-checked (Target.NotInUse), so a gated pod would never be Ready; got true`,
      });
    }
  });
  const arns = new Set<string>();
  config.certificates.forEach((c, i) => {
    if (arns.has(c.certificateArn)) issues.push({ path: `certificates[${i}].certificateArn`, message: `duplicate certificate ARN ${JSON.stringify(c.certificateArn)}` });
    arns.add(c.certificateArn);
  });
  return { targetGroups, loadBalancers, certificates: config.certificates, trustStores: config.trustStores };
}

/** The trust store name in `…:truststore/<name>/<id>`, or the value itself (a name). */
export function trustStoreNameOf(nameOrArn: string): string {
  const m = /^arn:aws[\w-]*:elasticloadbalancing:[^:]*:[^:]*:truststore\/([^/]+)\//.exec(nameOrArn);
  return m?.[1] ?? nameOrArn;
}

/**
 * A listener's `mutualAuthentication` with the API's defaults and refusals (spec 12.1.7,
 * 14): HTTPS listeners only; `verify` needs a trust store that `trustStores:` defines; the
 * trust store and the two verify options belong to verify mode only.
 */
function resolveMutualAuthentication(
  input: ParsedListener['mutualAuthentication'],
  protocol: ListenerConfig['protocol'],
  path: string,
  trustStores: ReadonlySet<string>,
  issues: ConfigIssue[],
): MutualAuthenticationConfig | undefined {
  if (input === undefined) return undefined;
  if (protocol !== 'HTTPS') {
    if (input.mode !== 'off' || input.trustStore !== undefined) issues.push({ path: `${path}.mode`, message: `mutual TLS applies to HTTPS listeners only (InvalidConfigurationRequest); this one is ${protocol}: got ${JSON.stringify(input.mode)}` });
    return undefined;
  }
  const verify = input.mode === 'verify';
  if (!verify) {
    if (input.trustStore !== undefined) issues.push({ path: `${path}.trustStore`, message: `applies to mode "verify" only; mode is ${JSON.stringify(input.mode)}: got ${JSON.stringify(input.trustStore)}` });
    if (input.ignoreClientCertificateExpiry === true) issues.push({ path: `${path}.ignoreClientCertificateExpiry`, message: `applies to mode "verify" only; mode is ${JSON.stringify(input.mode)}: got true` });
    if (input.advertiseTrustStoreCaNames === 'on') issues.push({ path: `${path}.advertiseTrustStoreCaNames`, message: `applies to mode "verify" only; mode is ${JSON.stringify(input.mode)}: got "on"` });
  }
  let trustStore: string | undefined;
  if (verify) {
    if (input.trustStore === undefined) {
      issues.push({ path: `${path}.trustStore`, message: `is required when mode is "verify": a trustStores: name or its ARN (defined: ${[...trustStores].join(', ') || 'none'}); got nothing` });
    } else {
      trustStore = trustStoreNameOf(input.trustStore);
      if (!trustStores.has(trustStore)) issues.push({ path: `${path}.trustStore`, message: `names trust store ${JSON.stringify(input.trustStore)}, which trustStores: does not define (TrustStoreNotFound); defined: ${[...trustStores].join(', ') || 'none'}` });
    }
  }
  return {
    mode: input.mode,
    ...(trustStore !== undefined ? { trustStore } : {}),
    ignoreClientCertificateExpiry: verify && input.ignoreClientCertificateExpiry === true,
    advertiseTrustStoreCaNames: verify ? (input.advertiseTrustStoreCaNames ?? 'off') : 'off',
  };
}

/**
 * Target group stickiness on a forward action (spec 3.4): `durationSeconds` is required when it
 * is enabled; a weighted forward whose groups have sticky sessions needs it (AWS: "you must
 * enable target group stickiness"; the error's wording here is local).
 */
function checkGroupStickiness(action: Extract<ActionConfig, { type: 'forward' }>, path: string, groups: ReadonlyMap<string, TargetGroupConfig>, issues: ConfigIssue[]): void {
  const config = action.forwardConfig?.targetGroupStickinessConfig;
  if (config?.enabled === true && config.durationSeconds === undefined) {
    issues.push({ path: `${path}.forwardConfig.targetGroupStickinessConfig.durationSeconds`, message: 'is required when target group stickiness is enabled (1–604800 seconds, spec 3.4): got none' });
  }
  const names = forwardedGroupNames(action);
  if (names.length < 2 || config?.enabled === true) return;
  const sticky = names.filter((n) => groups.get(n)?.attributes['stickiness.enabled'] === 'true');
  if (sticky.length > 0) {
    issues.push({
      path: `${path}.forwardConfig.targetGroupStickinessConfig`,
      message: `a forward to several target groups, some with sticky sessions (${sticky.map((n) => JSON.stringify(n)).join(', ')}), needs target group stickiness enabled (spec 3.3, 3.4): got ${config === undefined ? 'none' : 'enabled: false'}`,
    });
  }
}

/** The target groups a forward action names; none for other actions. */
function forwardedGroupNames(action: ActionConfig): string[] {
  if (action.type !== 'forward') return [];
  return action.forwardConfig?.targetGroups.map((t) => t.targetGroupName) ?? (action.targetGroupName ? [action.targetGroupName] : []);
}

const conditionConfigKey = {
  'host-header': 'hostHeaderConfig',
  'path-pattern': 'pathPatternConfig',
  'http-header': 'httpHeaderConfig',
  'http-request-method': 'httpRequestMethodConfig',
  'query-string': 'queryStringConfig',
  'source-ip': 'sourceIpConfig',
} as const;

function checkConditions(conditions: readonly ConditionConfig[], path: string, issues: ConfigIssue[]): void {
  const once = new Set<string>();
  conditions.forEach((c, i) => {
    const at = `${path}[${i}]`;
    const configKey = conditionConfigKey[c.field];
    const configs = Object.values(conditionConfigKey).filter((k) => c[k] !== undefined);
    if (configs.some((k) => k !== configKey)) {
      issues.push({ path: at, message: `field ${c.field} takes values or ${configKey}, not ${configs.filter((k) => k !== configKey).join(', ')}` });
    }
    const needsConfig = c.field === 'http-header' || c.field === 'query-string';
    if (needsConfig && c[configKey] === undefined) issues.push({ path: at, message: `field ${c.field} needs ${configKey}` });
    if (!needsConfig && (c.values === undefined) === (c[configKey] === undefined)) {
      issues.push({ path: at, message: `field ${c.field} needs exactly one of values or ${configKey}` });
    }
    const inner = c[configKey] as { values?: unknown; regexValues?: unknown } | undefined;
    if (inner !== undefined && (c.field === 'host-header' || c.field === 'path-pattern' || c.field === 'http-header') && (inner.values === undefined) === (inner.regexValues === undefined)) {
      issues.push({ path: `${at}.${configKey}`, message: `needs exactly one of values or regexValues` });
    }
    if (c.field !== 'http-header' && c.field !== 'query-string') {
      if (once.has(c.field)) issues.push({ path: at, message: `at most one ${c.field} condition per rule (spec 6.2)` });
      once.add(c.field);
    }
  });
}

/**
 * A rule's transforms (spec 6.1): at most one of each type, and each replacement refers only
 * to capture groups its regex has (`$N`; AWS's answer to a missing group is UNCONFIRMED, the
 * emulator refuses it here rather than fail every matching request).
 */
export function checkTransforms(transforms: readonly TransformConfig[], path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  transforms.forEach((t, i) => {
    const at = `${path}[${i}]`;
    if (seen.has(t.type)) issues.push({ path: `${at}.type`, message: `at most one ${t.type} transform per rule (one host-header-rewrite and one url-rewrite, spec 6.1): got a second ${JSON.stringify(t.type)}` });
    seen.add(t.type);
    const key = t.type === 'host-header-rewrite' ? 'hostHeaderRewriteConfig' : 'urlRewriteConfig';
    const rewrites = t.type === 'host-header-rewrite' ? t.hostHeaderRewriteConfig.rewrites : t.urlRewriteConfig.rewrites;
    rewrites.forEach((r, j) => {
      if (ruleRegexProblem(r.regex) !== undefined) return;
      const groups = captureGroupCount(r.regex);
      const missing = replacementGroups(r.replace).filter((n) => n > groups);
      if (missing.length > 0) {
        issues.push({ path: `${at}.${key}.rewrites[${j}].replace`, message: `refers to $${missing[0]}, but regex ${JSON.stringify(r.regex)} has ${groups} capture group${groups === 1 ? '' : 's'} ($1–$${groups} allowed): got ${JSON.stringify(r.replace)}` });
      }
    });
  });
  return issues;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
