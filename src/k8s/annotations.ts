/**
 * Every annotation the AWS Load Balancer Controller documents under its prefixes
 * (`alb.ingress.kubernetes.io/` on Ingresses, `service.beta.kubernetes.io/` on Services; spec 9.2,
 * 9.3), and what local-elb does with it: `emulated` (translate.ts reads it and the load balancer
 * behaves as on AWS), `no-local-effect` (its meaning is AWS-side only: subnets, security groups,
 * WAF, tags…; accepted, and said once in a Normal Event) or `warned` (a behaviour local-elb does
 * not have: a Warning Event says what happens instead). An annotation under the prefixes that
 * the controller does not document gets a Warning too, so none is silently dropped.
 *
 * The list is the controller's docs at {@link LBC_DOCS_COMMIT} (docs/guide/ingress/annotations.md,
 * docs/guide/service/annotations.md and the pages they link); test/fixtures/lbc-annotations.json
 * holds what was extracted there, and test/unit/k8s/annotations.test.ts keeps the two in step.
 * Pure: translate.ts calls {@link annotationFindings}; the README's table is {@link annotationTable}.
 */
import type { V1Ingress, V1IngressBackend } from '@kubernetes/client-node';

/** The aws-load-balancer-controller commit whose docs this catalogue follows. */
export const LBC_DOCS_COMMIT = '225f44568848eb25f13e304a5f1cc68c0cd9415d';

export const INGRESS_PREFIX = 'alb.ingress.kubernetes.io/';
export const SERVICE_PREFIX = 'service.beta.kubernetes.io/';

export type AnnotationHandling = 'emulated' | 'no-local-effect' | 'warned';

export interface AnnotationEntry {
  /** As the controller's docs write it; `${…}` stands for a name the user chooses (`actions.${action-name}`). */
  readonly name: string;
  /**
   * The objects it is read from (the docs' Location): `alb.ingress.kubernetes.io/` target-group
   * annotations are read from an Ingress's backend Services too, the Service's winning.
   */
  readonly on: readonly ('Ingress' | 'Service')[];
  readonly handling: AnnotationHandling;
  /**
   * Values local-elb serves exactly as AWS does although the annotation is not `emulated` in
   * general (`scheme: internal` is what a loopback address is); other values get `handling`.
   */
  readonly emulatedValues?: readonly string[];
  /**
   * `emulated`: what local-elb does with it. `no-local-effect`: its AWS-side meaning, why nothing
   * local follows. `warned`: what happens instead. The README's table shows it.
   */
  readonly note: string;
}

const ing = (name: string, handling: AnnotationHandling, note: string, emulatedValues?: readonly string[]): AnnotationEntry => ({
  name: `${INGRESS_PREFIX}${name}`,
  on: ['Ingress'],
  handling,
  note,
  ...(emulatedValues ? { emulatedValues } : {}),
});
/** An `alb.ingress.kubernetes.io/` annotation read from the Ingress and from its backend Services. */
const ingAndSvc = (name: string, handling: AnnotationHandling, note: string): AnnotationEntry => ({ ...ing(name, handling, note), on: ['Ingress', 'Service'] });
const svc = (name: string, handling: AnnotationHandling, note: string, emulatedValues?: readonly string[]): AnnotationEntry => ({
  name: `${SERVICE_PREFIX}${name}`,
  on: ['Service'],
  handling,
  note,
  ...(emulatedValues ? { emulatedValues } : {}),
});

const SCHEME_NOTE =
  'every load balancer listens on its own loopback address (--address-prefix), reachable from this machine only, whatever the scheme; give local-elb kind --listen-address to serve other machines';
const IPV6_NOTE = 'listeners are IPv4 only (a loopback address): no IPv6 address, clients connect over IPv4';
const NO_VPC = 'local-elb has no VPC';
const TARGET_NODE_LABELS_NOTE = 'instance targets are the eligible nodes (spec 9.6) that carry every label named (`k1=v1,k2=v2`)';
const FRONTEND_NLB_NOTE = 'no NLB is put in front of the ALB: clients connect to the ALB itself';
const TARGET_CONTROL_NOTE = 'the ALB target optimizer (target control agent) is not emulated: requests go to targets with no concurrency limit from an agent';
const WAF_NOTE = `web ACLs are AWS WAF objects: ${NO_VPC} and no WAF, so no request is inspected or blocked`;

/** The catalogue, in the order of the controller's docs. */
export const ANNOTATIONS: readonly AnnotationEntry[] = [
  // docs/guide/ingress/annotations.md
  ing('load-balancer-name', 'emulated', 'names the ALB (describe-load-balancers, the dashboard, the log)'),
  ing('group.name', 'emulated', 'Ingresses with one group name share one ALB'),
  ing('group.order', 'emulated', "orders the group's Ingresses and so their rules"),
  ingAndSvc('tags', 'no-local-effect', "tags AWS resources (ALB, target groups, security groups); the ELBv2 API's DescribeTags shows an Ingress group's, nothing else reads them"),
  ing('ip-address-type', 'warned', IPV6_NOTE, ['ipv4']),
  ing('scheme', 'warned', SCHEME_NOTE, ['internal']),
  ing('subnets', 'no-local-effect', `places the ALB in VPC subnets; ${NO_VPC}: the address is a loopback one`),
  ing('security-groups', 'no-local-effect', `attaches EC2 security groups, whose rules live in AWS; ${NO_VPC}: nothing filters traffic by them`),
  ing('manage-backend-security-group-rules', 'no-local-effect', `lets the controller edit the nodes' security groups; ${NO_VPC}`),
  ing('customer-owned-ipv4-pool', 'no-local-effect', `an Outposts address pool; ${NO_VPC}`),
  ing('load-balancer-attributes', 'emulated', 'the ALB attributes (idle timeout, HTTP/2, header handling…); an attribute with no local meaning gets its own AttributeWithoutLocalEffect Event'),
  ing('wafv2-acl-arn', 'no-local-effect', WAF_NOTE),
  ing('waf-acl-id', 'no-local-effect', WAF_NOTE),
  ing('shield-advanced-protection', 'no-local-effect', 'AWS Shield Advanced (DDoS protection) is an AWS subscription; nothing local'),
  ing('listen-ports', 'emulated', 'the listeners (HTTP, HTTPS and their ports), merged across a group'),
  ing('ssl-redirect', 'emulated', 'HTTP listeners redirect to that HTTPS port (HTTP_301)'),
  ing('inbound-cidrs', 'warned', 'not enforced: local-elb has no security group, so every client that reaches the address is served'),
  ing('security-group-prefix-lists', 'no-local-effect', `managed prefix lists are EC2 objects used in security group rules; ${NO_VPC}`),
  ing('certificate-arn', 'emulated', 'the HTTPS certificates (mapped to files by local-elb kind --config, else issued by the local CA)'),
  ing('ssl-policy', 'emulated', "the HTTPS listeners' security policy (protocols and ciphers)"),
  ingAndSvc('target-type', 'emulated', 'instance (nodes at the NodePort) or ip (pod IPs) targets'),
  ingAndSvc('backend-protocol', 'emulated', 'HTTP or HTTPS to the targets'),
  ingAndSvc('backend-protocol-version', 'emulated', "HTTP1, HTTP2 or GRPC: the target group's protocol version"),
  ingAndSvc('target-group-attributes', 'emulated', 'the target group attributes (stickiness, deregistration delay, slow start, algorithm…)'),
  ingAndSvc('healthcheck-port', 'emulated', 'the health-check port'),
  ingAndSvc('healthcheck-protocol', 'emulated', 'the health-check protocol'),
  ingAndSvc('healthcheck-path', 'emulated', 'the health-check path'),
  ingAndSvc('healthcheck-interval-seconds', 'emulated', 'the health-check interval'),
  ingAndSvc('healthcheck-timeout-seconds', 'emulated', 'the health-check timeout'),
  ingAndSvc('healthy-threshold-count', 'emulated', 'the healthy threshold'),
  ingAndSvc('unhealthy-threshold-count', 'emulated', 'the unhealthy threshold'),
  ingAndSvc('success-codes', 'emulated', 'the health-check matcher (HTTP codes, or gRPC codes with GRPC)'),
  ingAndSvc('auth-type', 'emulated', 'an authenticate-oidc or authenticate-cognito action before the rule (spec 13.2.9)'),
  ingAndSvc('auth-idp-cognito', 'emulated', 'the Cognito user pool of the authenticate action'),
  ingAndSvc('auth-idp-oidc', 'emulated', 'the OIDC provider of the authenticate action (client secret from the named Secret)'),
  ingAndSvc('auth-on-unauthenticated-request', 'emulated', 'authenticate, allow or deny'),
  ingAndSvc('auth-scope', 'emulated', 'the scope asked of the identity provider'),
  ingAndSvc('auth-session-cookie', 'emulated', 'the session cookie name'),
  ingAndSvc('auth-session-timeout', 'emulated', 'the session lifetime'),
  ing('jwt-validation', 'emulated', "a jwt-validation action before each rule's routing action on HTTPS listeners (the bearer token checked against the JWKS endpoint's keys); not beside auth-type"),
  ing('actions.${action-name}', 'emulated', 'the action of a use-annotation backend: fixed-response, redirect or forward (camelCase or PascalCase)'),
  ing('transforms.${transforms-name}', 'emulated', "the rule's transforms (host-header-rewrite, url-rewrite)"),
  ing('conditions.${conditions-name}', 'emulated', "the rule's extra conditions (host-header, path-pattern, http-header, http-request-method, query-string, source-ip)"),
  ing('use-regex-path-match', 'emulated', "\"true\": ImplementationSpecific paths are path-pattern regexValues (the leading / stripped), as the controller sends them"),
  ingAndSvc('target-node-labels', 'emulated', TARGET_NODE_LABELS_NOTE),
  ing('mutual-authentication', 'emulated', "the HTTPS listeners' mutual TLS (off, passthrough, verify) by port; trust stores by name or ARN from `local-elb kind --config`'s trustStores:"),
  ingAndSvc('multi-cluster-target-group', 'no-local-effect', "lets other clusters' targets share the target group; a kind-made target group holds this cluster's targets only"),
  ing('listener-attributes.${Protocol}-${Port}', 'emulated', "the listener's attributes (response headers and the like), merged key by key with IngressClassParams listeners"),
  ing('minimum-load-balancer-capacity', 'no-local-effect', 'reserves AWS capacity units (LCUs); capacity is this machine'),
  ing('ipam-ipv4-pool-id', 'no-local-effect', `an IPAM address pool; ${NO_VPC}`),
  ing('enable-frontend-nlb', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-scheme', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-subnets', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-security-groups', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-listener-port-mapping', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-port', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-protocol', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-path', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-interval-seconds', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-timeout-seconds', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-healthy-threshold-count', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-unhealthy-threshold-count', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-healthcheck-success-codes', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-tags', 'warned', FRONTEND_NLB_NOTE),
  ing('frontend-nlb-eip-allocations', 'warned', FRONTEND_NLB_NOTE),
  ing('target-control-port.${serviceName}.${servicePort}', 'warned', TARGET_CONTROL_NOTE),
  ing('frontend-nlb-attributes', 'warned', FRONTEND_NLB_NOTE),
  // docs/guide/ingress/annotations.md (text) and the pages it links
  ing('wafv2-acl-name', 'no-local-effect', WAF_NOTE),
  ing('web-acl-id', 'no-local-effect', WAF_NOTE),
  ing('create-acm-cert', 'no-local-effect', "asks the controller to create an ACM certificate for the Ingress hosts; the local CA issues one for HTTPS listeners without certificate-arn either way"),
  ing('acm-pca-arn', 'no-local-effect', 'names the ACM Private CA that signs created certificates; the local CA signs them here'),
  ing('dry-run-plan', 'no-local-effect', "written by the controller (IngressPlanAnnotation feature gate) with its model of the stack, never read from users; local-elb writes none"),

  // docs/guide/service/annotations.md
  svc('load-balancer-source-ranges', 'warned', 'not enforced: local-elb has no security group, so every client that reaches the address is served'),
  svc('aws-load-balancer-security-group-prefix-lists', 'no-local-effect', `managed prefix lists are EC2 objects used in security group rules; ${NO_VPC}`),
  svc('aws-load-balancer-type', 'emulated', 'external or nlb-ip: the controller serves the Service (instead of loadBalancerClass)'),
  svc('aws-load-balancer-nlb-target-type', 'emulated', 'instance (nodes at the NodePort) or ip (pod IPs) targets'),
  svc('aws-load-balancer-name', 'emulated', 'names the NLB (describe-load-balancers, the dashboard, the log)'),
  svc('aws-load-balancer-internal', 'warned', SCHEME_NOTE, ['true']),
  svc('aws-load-balancer-scheme', 'warned', SCHEME_NOTE, ['internal']),
  svc('aws-load-balancer-proxy-protocol', 'emulated', 'Proxy Protocol v2 on every target group'),
  svc('aws-load-balancer-proxy-protocol-per-target-group', 'emulated', 'Proxy Protocol v2 on the named ports only'),
  svc('aws-load-balancer-ip-address-type', 'warned', IPV6_NOTE, ['ipv4']),
  svc('aws-load-balancer-access-log-enabled', 'no-local-effect', 'NLB access logs go to S3 (deprecated annotation, now access_logs.s3.* attributes); local-elb writes no NLB access log'),
  svc('aws-load-balancer-access-log-s3-bucket-name', 'no-local-effect', 'the S3 bucket of NLB access logs; local-elb writes no NLB access log'),
  svc('aws-load-balancer-access-log-s3-bucket-prefix', 'no-local-effect', 'the S3 key prefix of NLB access logs; local-elb writes no NLB access log'),
  svc('aws-load-balancer-cross-zone-load-balancing-enabled', 'no-local-effect', 'spreads connections across Availability Zones; local-elb is one zone, so there is no zone to cross'),
  svc('aws-load-balancer-ssl-cert', 'emulated', 'makes the ssl-ports TLS listeners with these certificates'),
  svc('aws-load-balancer-ssl-ports', 'emulated', 'the ports that become TLS listeners'),
  svc('aws-load-balancer-ssl-negotiation-policy', 'emulated', "the TLS listeners' security policy"),
  svc('aws-load-balancer-backend-protocol', 'emulated', 'ssl: TLS target groups behind the TLS listeners'),
  svc('aws-load-balancer-additional-resource-tags', 'no-local-effect', 'tags AWS resources (NLB, target groups, security groups); nothing local reads tags'),
  svc('aws-load-balancer-healthcheck-protocol', 'emulated', 'the health-check protocol'),
  svc('aws-load-balancer-healthcheck-port', 'emulated', 'the health-check port (a number, traffic-port or a port name)'),
  svc('aws-load-balancer-healthcheck-path', 'emulated', 'the health-check path'),
  svc('aws-load-balancer-healthcheck-healthy-threshold', 'emulated', 'the healthy threshold'),
  svc('aws-load-balancer-healthcheck-unhealthy-threshold', 'emulated', 'the unhealthy threshold'),
  svc('aws-load-balancer-healthcheck-timeout', 'emulated', 'the health-check timeout'),
  svc('aws-load-balancer-healthcheck-interval', 'emulated', 'the health-check interval'),
  svc('aws-load-balancer-healthcheck-success-codes', 'emulated', 'the health-check matcher'),
  svc('aws-load-balancer-eip-allocations', 'no-local-effect', `Elastic IPs of an internet-facing NLB's subnets; ${NO_VPC}: the address is a loopback one`),
  svc('aws-load-balancer-private-ipv4-addresses', 'no-local-effect', `private addresses in the NLB's subnets; ${NO_VPC}: the address is a loopback one (--address-prefix)`),
  svc('aws-load-balancer-ipv6-addresses', 'no-local-effect', `IPv6 addresses in the NLB's subnets; ${NO_VPC}: the address is a loopback one`),
  svc('aws-load-balancer-target-group-attributes', 'emulated', 'the target group attributes (stickiness, Proxy Protocol, client IP preservation, deregistration delay…)'),
  svc('aws-load-balancer-subnets', 'no-local-effect', `places the NLB in VPC subnets; ${NO_VPC}: the address is a loopback one`),
  svc('aws-load-balancer-alpn-policy', 'emulated', "the TLS listeners' ALPN policy"),
  svc('aws-load-balancer-target-node-labels', 'emulated', TARGET_NODE_LABELS_NOTE),
  svc('aws-load-balancer-attributes', 'no-local-effect', 'every NLB load balancer attribute (cross-zone, deletion protection, access logs, DNS routing policy…) is AWS-side only here (config/attributes.ts); target group and listener attributes have their own annotations'),
  svc('aws-load-balancer-security-groups', 'no-local-effect', `attaches EC2 security groups, whose rules live in AWS; ${NO_VPC}: nothing filters traffic by them`),
  svc('aws-load-balancer-manage-backend-security-group-rules', 'no-local-effect', `lets the controller edit the nodes' security groups; ${NO_VPC}`),
  svc('aws-load-balancer-inbound-sg-rules-on-private-link-traffic', 'no-local-effect', `security group rules for PrivateLink traffic; ${NO_VPC}`),
  svc('aws-load-balancer-listener-attributes.${Protocol}-${Port}', 'emulated', "the listener's attributes (tcp.idle_timeout.seconds)"),
  svc('aws-load-balancer-multi-cluster-target-group', 'no-local-effect', "lets other clusters' targets share the target group; a kind-made target group holds this cluster's targets only"),
  svc('aws-load-balancer-enable-prefix-for-ipv6-source-nat', 'no-local-effect', `IPv6 source NAT prefixes of a dual-stack UDP NLB in its subnets; ${NO_VPC}`),
  svc('aws-load-balancer-source-nat-ipv6-prefixes', 'no-local-effect', `IPv6 source NAT prefixes in the NLB's subnets; ${NO_VPC}`),
  svc('aws-load-balancer-minimum-load-balancer-capacity', 'no-local-effect', 'reserves AWS capacity units (LCUs); capacity is this machine'),
  svc('aws-load-balancer-enable-icmp-for-path-mtu-discovery', 'no-local-effect', `adds an ICMP rule to the managed security group; ${NO_VPC}`),
  svc('aws-load-balancer-enable-tcp-udp-listener', 'emulated', '`true`: a TCP and a UDP port with one number become one TCP_UDP listener and target group, as the controller merges them'),
  svc('aws-load-balancer-disable-nlb-sg', 'no-local-effect', `stops the controller making a security group for the NLB; ${NO_VPC}`),
  svc('aws-load-balancer-quic-enabled-ports', 'warned', 'no QUIC listeners: the ports stay UDP (or TCP and UDP) listeners, with no QUIC connection-ID routing'),
  svc('actions.${protocol}-${port}', 'warned', "weighted default actions on NLB listeners are not emulated: each listener forwards to its own port's target group only"),
  // docs/guide/service/annotations.md (text)
  svc('aws-load-balancer-target-group-attributes.${port}', 'emulated', "one port's target group attributes, over aws-load-balancer-target-group-attributes"),
];

/** The part of a catalogue name before its first `${…}`: what a family's keys start with. */
function prefixOf(entry: AnnotationEntry): { readonly key: string; readonly family: boolean } {
  const at = entry.name.indexOf('${');
  return at < 0 ? { key: entry.name, family: false } : { key: entry.name.slice(0, at), family: true };
}

const EXACT = new Map(ANNOTATIONS.filter((e) => !prefixOf(e).family).map((e) => [e.name, e]));
const FAMILIES = ANNOTATIONS.filter((e) => prefixOf(e).family).sort((x, y) => prefixOf(y).key.length - prefixOf(x).key.length);

/** The entry an annotation key falls under (`actions.blue-green` → `actions.${action-name}`), or undefined. */
export function lookupAnnotation(key: string): AnnotationEntry | undefined {
  return EXACT.get(key) ?? FAMILIES.find((e) => key.startsWith(prefixOf(e).key) && key.length > prefixOf(e).key.length);
}

export interface AnnotationFindings {
  /** Warnings: what local-elb does not do, and keys the controller does not know. */
  readonly problems: string[];
  /** Accepted with no local effect, for a Normal Event once. */
  readonly notices: string[];
}

/**
 * What local-elb says about an object's annotations under one of the controller's prefixes
 * (`service.beta.kubernetes.io/` on a Service it serves; `alb.ingress.kubernetes.io/` on an
 * Ingress and on that Ingress's backend Services): nothing for an emulated one, a notice for one
 * with no local effect, a problem for a warned one, for one the controller reads only on another
 * kind of object, and for one it does not know. Keys in sorted order, so the messages are stable.
 */
export function annotationFindings(
  object: 'Ingress' | 'Service',
  annotations: Readonly<Record<string, string>>,
  prefix: string = object === 'Ingress' ? INGRESS_PREFIX : SERVICE_PREFIX,
): AnnotationFindings {
  const problems: string[] = [];
  const notices: string[] = [];
  for (const key of Object.keys(annotations).sort()) {
    if (!key.startsWith(prefix)) continue;
    const entry = lookupAnnotation(key);
    if (entry === undefined) {
      problems.push(
        `annotation ${key} is not one the AWS Load Balancer Controller reads ` +
          `(not in its documented annotations at ${LBC_DOCS_COMMIT.slice(0, 12)}): ignored, as the controller ignores it; check the spelling`,
      );
      continue;
    }
    if (!entry.on.includes(object)) {
      problems.push(`annotation ${key} is read from ${entry.on.map((o) => (o === 'Ingress' ? 'Ingresses' : 'Services')).join(' and ')} only, not from ${object === 'Ingress' ? 'an Ingress' : 'a Service'}: ignored, as the controller ignores it`);
      continue;
    }
    const value = annotations[key]!;
    if (entry.handling === 'emulated' || entry.emulatedValues?.includes(value.trim())) continue;
    if (entry.handling === 'no-local-effect') notices.push(`annotation ${key} is accepted, with no local effect: ${entry.note}`);
    else problems.push(`annotation ${key}: ${JSON.stringify(value)} is not emulated by local-elb: ${entry.note}`);
  }
  return { problems, notices };
}

/** The Services an Ingress's rules and default backend name (not `use-annotation` actions): where its target groups' annotations are read too. */
export function ingressBackendServices(ingress: V1Ingress): string[] {
  const names = new Set<string>();
  const add = (backend: V1IngressBackend | undefined) => {
    if (backend?.service?.name !== undefined && backend.service.port?.name !== 'use-annotation') names.add(backend.service.name);
  };
  add(ingress.spec?.defaultBackend);
  for (const rule of ingress.spec?.rules ?? []) for (const path of rule.http?.paths ?? []) add(path.backend);
  return [...names];
}

const HANDLING_TEXT: Record<AnnotationHandling, string> = { emulated: 'emulated', 'no-local-effect': 'no local meaning', warned: 'Warning' };

/** The README's table (kind section), one row per entry; test/unit/k8s/annotations.test.ts checks the README holds it. */
export function annotationTable(): string {
  const rows = ANNOTATIONS.map((e) => {
    const values = e.emulatedValues ? ` (emulated when ${e.emulatedValues.map((v) => `\`${v}\``).join(', ')})` : '';
    return `| \`${e.name.replace(/^(alb\.ingress\.kubernetes\.io|service\.beta\.kubernetes\.io)\//, '')}\` | ${e.on.join(', ')} | ${HANDLING_TEXT[e.handling]}${values} | ${e.note.replaceAll('|', '\\|')} |`;
  });
  return ['| Annotation (`alb.ingress.kubernetes.io/…` on Ingresses, `service.beta.kubernetes.io/…` on Services) | On | local-elb | What it does here, or why not |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
