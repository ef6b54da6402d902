/**
 * Listener actions (spec 14.6.4): create, modify, delete and describe listeners, their
 * attributes and their certificates. A listener binds its `Port` on its load balancer's own
 * loopback address where it can, else a free port (the `local-elb:url` tag says where); a
 * change to one listener leaves the others and their connections alone (ElbRuntime.apply).
 */
import { resolveAttributes, applicationListenerAttributes, tcpListenerAttributes } from '../config/attributes.ts';
import { ALPN_POLICIES, listenerAttributeCatalogue, type ListenerConfig } from '../config/schema.ts';
import { DEFAULT_SSL_POLICY, SslPolicyNotFoundError, sslPolicy } from '../tls/policies.ts';
import type { LoadBalancer } from '../runtime/runtime.ts';
import { LIMITS, page, tagsOf, type Call, type Elbv2Api, type Handler, type Result } from './api.ts';
import { actionInput, AUTHENTICATION_ACTION_TYPES } from './convert.ts';
import { Draft, type InputListener } from './draft.ts';
import { ApiError } from './errors.ts';
import { attributeError, attributeList, readAttributes } from './load-balancers.ts';
import type { Members } from './query.ts';
import { trustStoreByArn } from './trust-stores.ts';

const LISTENER_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP', 'GENEVE', 'QUIC', 'TCP_QUIC'] as const;
type ListenerProtocol = ListenerConfig['protocol'];

/** Listener protocol → the target group protocols it may forward to (spec 1.1). */
const COMPATIBLE: Readonly<Record<ListenerProtocol, readonly string[]>> = {
  HTTP: ['HTTP', 'HTTPS'],
  HTTPS: ['HTTP', 'HTTPS'],
  TCP: ['TCP', 'TCP_UDP'],
  TLS: ['TCP', 'TLS'],
  UDP: ['UDP', 'TCP_UDP'],
  TCP_UDP: ['TCP_UDP'],
};

/** A certificate ARN as ACM or IAM writes one (others are CertificateNotFound). */
const CERTIFICATE_ARN = /^arn:aws[\w-]*:(acm|iam):[^:]*:\d*:(certificate|server-certificate)\/.+$/;

function readProtocol(params: Members, lb: LoadBalancer): ListenerProtocol | undefined {
  const protocol = params.choice('Protocol', LISTENER_PROTOCOLS);
  if (protocol === undefined) return undefined;
  const network = lb.config.type === 'network';
  const allowed = network ? ['TCP', 'TLS', 'UDP', 'TCP_UDP'] : ['HTTP', 'HTTPS'];
  if (!allowed.includes(protocol)) throw new ApiError('UnsupportedProtocol', `Protocol '${protocol}' is not supported on ${lb.config.type} load balancers: use ${allowed.join(', ')}`);
  return protocol as ListenerProtocol;
}

function readCertificates(params: Members, name = 'Certificates'): string[] | undefined {
  return params.structures(name)?.map((c) => {
    const arn = c.string('CertificateArn', { required: true });
    if (!CERTIFICATE_ARN.test(arn)) throw new ApiError('CertificateNotFound', `Certificate '${arn}' not found`);
    return arn;
  });
}

function checkPolicy(name: string, lb: LoadBalancer): void {
  try {
    sslPolicy(name, lb.config.type, 'SslPolicy');
  } catch (err) {
    if (err instanceof SslPolicyNotFoundError) throw new ApiError('SSLPolicyNotFound', `SSL policy '${name}' not found`, { cause: err });
    throw err;
  }
}

/**
 * The default actions as config input, after AWS's checks: every group exists
 * (TargetGroupNotFound), serves no other load balancer (TargetGroupAssociationLimit) and suits
 * the listener's protocol (IncompatibleProtocols); an NLB only forwards, to one group.
 */
function readActions(api: Elbv2Api, members: Members[], lb: LoadBalancer, protocol: ListenerProtocol): Record<string, unknown>[] {
  const network = lb.config.type === 'network';
  const actions = members.map((m) => actionInput(m, (arn) => api.targetGroup(arn).name));
  const terminal = actions.filter((a) => a['type'] === 'forward' || a['type'] === 'redirect' || a['type'] === 'fixed-response');
  if (terminal.length !== 1) throw new ApiError('InvalidLoadBalancerAction', 'A rule needs exactly one forward, redirect or fixed-response action');
  for (const action of actions) {
    if (network && action['type'] !== 'forward') throw new ApiError('InvalidLoadBalancerAction', `Network load balancers only forward: got action type '${String(action['type'])}'`);
    if (AUTHENTICATION_ACTION_TYPES.has(String(action['type'])) && protocol !== 'HTTPS') throw new ApiError('InvalidLoadBalancerAction', 'Authentication actions are supported on HTTPS listeners only');
    if (action['type'] !== 'forward') continue;
    const names = (action['targetGroupName'] as string | undefined) !== undefined ? [action['targetGroupName'] as string] : ((action['forwardConfig'] as { targetGroups: Array<{ targetGroupName: string }> }).targetGroups.map((g) => g.targetGroupName));
    if (network && names.length > 1) throw new ApiError('TooManyTargetGroups', 'A network load balancer action forwards to one target group');
    if (names.length > LIMITS['target-groups-per-action-on-application-load-balancer']) throw new ApiError('TooManyTargetGroups', 'An action forwards to at most 5 target groups');
    for (const name of names) {
      const group = api.runtime.targetGroup(name);
      const others = api.loadBalancers().filter(({ lb: other }) => other.name !== lb.name && other.targetGroupNames().includes(name));
      if (others.length > 0) throw new ApiError('TargetGroupAssociationLimit', `The following target groups cannot be associated with more than one load balancer: ${api.targetGroupArn(name)}`);
      if (!COMPATIBLE[protocol].includes(group.config.protocol)) {
        throw new ApiError('IncompatibleProtocols', `The listener protocol '${protocol}' is not compatible with target group protocol '${group.config.protocol}' (${api.targetGroupArn(name)})`);
      }
    }
  }
  return actions;
}

/** HTTPS/TLS settings of a new or changed listener: one certificate, a known policy, an ALPN policy on TLS only. */
function secureSettings(params: Members, lb: LoadBalancer, protocol: ListenerProtocol, before: ListenerConfig | undefined): Partial<InputListener> {
  const secure = protocol === 'HTTPS' || protocol === 'TLS';
  const given = readCertificates(params);
  const policy = params.string('SslPolicy');
  const alpn = params.strings('AlpnPolicy');
  if (alpn !== undefined && alpn.length > 0) {
    if (protocol !== 'TLS') throw new ApiError('ALPNPolicyNotFound', 'An ALPN policy applies to TLS listeners only');
    if (alpn.length > 1 || !(ALPN_POLICIES as readonly string[]).includes(alpn[0]!)) throw new ApiError('ALPNPolicyNotFound', `ALPN policy '${alpn.join(',')}' not found: use one of ${ALPN_POLICIES.join(', ')}`);
  }
  if (!secure) {
    if (given !== undefined && given.length > 0) throw new ApiError('ValidationError', `A ${protocol} listener takes no certificates`);
    if (policy !== undefined) throw new ApiError('ValidationError', `A ${protocol} listener takes no SSL policy`);
    return {};
  }
  const wasSecure = before !== undefined && (before.protocol === 'HTTPS' || before.protocol === 'TLS');
  if (given !== undefined && given.length !== 1) throw new ApiError('ValidationError', `A ${protocol} listener takes exactly one default certificate: got ${given.length}`);
  const certificates = given !== undefined ? [{ certificateArn: given[0]! }, ...(wasSecure ? (before!.certificates ?? []).slice(1).filter((c) => c.certificateArn !== given[0]) : [])] : wasSecure ? before!.certificates : undefined;
  if (certificates === undefined || certificates.length === 0) throw new ApiError('ValidationError', `A certificate must be specified for ${protocol} listeners`);
  const sslPolicyName = policy ?? (wasSecure ? before!.sslPolicy : undefined) ?? DEFAULT_SSL_POLICY;
  checkPolicy(sslPolicyName, lb);
  const alpnPolicy = protocol === 'TLS' ? (alpn?.[0] ?? (before?.protocol === 'TLS' ? before.alpnPolicy : undefined)) : undefined;
  return { certificates: certificates.map((c) => ({ certificateArn: c.certificateArn })), sslPolicy: sslPolicyName, ...(alpnPolicy !== undefined ? { alpnPolicy } : {}) };
}

const MTLS_MODES = ['off', 'passthrough', 'verify'] as const;

/**
 * `MutualAuthentication` of a new or changed listener (spec 12.1.7): HTTPS only; the trust
 * store by ARN (TrustStoreNotFound; TrustStoreNotReady while it is CREATING). Absent on
 * ModifyListener keeps what the listener had (an HTTPS listener that becomes HTTP drops it).
 */
function mutualAuthentication(api: Elbv2Api, params: Members, protocol: ListenerProtocol, before: ListenerConfig | undefined): Pick<InputListener, 'mutualAuthentication'> {
  const m = params.structure('MutualAuthentication');
  if (m === undefined) return protocol === 'HTTPS' && before?.mutualAuthentication !== undefined ? { mutualAuthentication: { ...before.mutualAuthentication } } : {};
  const mode = m.choice('Mode', MTLS_MODES) ?? 'off';
  if (protocol !== 'HTTPS') {
    if (mode !== 'off') throw new ApiError('InvalidConfigurationRequest', `Mutual authentication is supported on HTTPS listeners only: this one is ${protocol}`);
    return {};
  }
  const arn = m.string('TrustStoreArn');
  let trustStore: string | undefined;
  if (arn !== undefined && arn !== '') {
    const entry = trustStoreByArn(api, arn);
    if (entry.record.status !== 'ACTIVE') throw new ApiError('TrustStoreNotReady', `Trust store '${arn}' is not active yet (${entry.record.status}): describe it until it is ACTIVE`);
    trustStore = entry.config.name;
  }
  if (mode === 'verify' && trustStore === undefined) throw new ApiError('ValidationError', 'A trust store ARN must be specified when the mutual authentication mode is verify');
  const ignore = m.boolean('IgnoreClientCertificateExpiry');
  const advertise = m.choice('AdvertiseTrustStoreCaNames', ['on', 'off'] as const);
  return {
    mutualAuthentication: {
      mode,
      ...(trustStore !== undefined ? { trustStore } : {}),
      ...(ignore !== undefined ? { ignoreClientCertificateExpiry: ignore } : {}),
      ...(advertise !== undefined ? { advertiseTrustStoreCaNames: advertise } : {}),
    },
  };
}

export const listenerHandlers: Record<string, Handler> = {
  async CreateListener({ api, params }: Call): Promise<Result> {
    const { lb, record: lbRecord } = api.loadBalancer(params.string('LoadBalancerArn', { required: true }));
    api.assertOwned(lb, lbRecord.arn);
    const protocol = readProtocol(params, lb) ?? (lb.config.type === 'network' ? 'TCP' : 'HTTP');
    const port = params.integer('Port', { required: true, min: 1, max: 65535 });
    const secure = { ...secureSettings(params, lb, protocol, undefined), ...mutualAuthentication(api, params, protocol, undefined) };
    const defaultActions = readActions(api, params.structures('DefaultActions', { required: true })!, lb, protocol);
    const tags = tagsOf(params);
    const same = api.listeners().find((l) => l.lb === lb && l.config.port === port);
    if (same !== undefined) {
      // An identical repeat call succeeds (spec 14.6.4).
      if (same.config.protocol === protocol && JSON.stringify(actionSummary(same.config.defaultActions)) === JSON.stringify(actionSummary(defaultActions))) return { Listeners: [api.listenerShape(same)] };
      throw new ApiError('DuplicateListener', `A listener already exists on port ${port} of load balancer '${lbRecord.arn}'`);
    }
    const limit = lb.config.type === 'network' ? LIMITS['listeners-per-network-load-balancer'] : LIMITS['listeners-per-application-load-balancer'];
    if (lb.config.listeners.length >= limit) throw new ApiError('TooManyListeners', `A load balancer takes at most ${limit} listeners`);
    const draft = new Draft(api.runtime, api.catalog);
    const listener = { port, protocol, address: lbRecord.address, defaultActions, ...secure } as InputListener;
    draft.loadBalancer(lb.name).listeners.push(listener);
    const record = api.catalog.newListener(lbRecord, tags);
    draft.bindListener(listener, record);
    await draft.commit();
    return { Listeners: [api.listenerShape(api.listener(record.arn))] };
  },

  async ModifyListener({ api, params }: Call): Promise<Result> {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    api.assertOwned(entry.lb, entry.record.arn);
    const { lb, config: before } = entry;
    const protocol = readProtocol(params, lb) ?? before.protocol;
    const port = params.integer('Port', { min: 1, max: 65535 }) ?? before.port;
    if (port !== before.port && api.listeners().some((l) => l.lb === lb && l.config.port === port)) {
      throw new ApiError('DuplicateListener', `A listener already exists on port ${port} of load balancer '${entry.lbRecord.arn}'`);
    }
    const secure = { ...secureSettings(params, lb, protocol, before), ...mutualAuthentication(api, params, protocol, before) };
    const actions = params.structures('DefaultActions');
    const defaultActions = actions !== undefined && actions.length > 0 ? readActions(api, actions, lb, protocol) : undefined;
    const draft = new Draft(api.runtime, api.catalog);
    const { lb: inputLb, listener, index } = draft.listener(entry.record);
    const { sslPolicy: _p, certificates: _c, alpnPolicy: _a, mutualAuthentication: _m, ...plain } = listener;
    const next = { ...plain, port, protocol, ...secure, ...(defaultActions !== undefined ? { defaultActions } : {}) } as InputListener;
    inputLb.listeners[index] = next;
    draft.bindListener(next, entry.record);
    await draft.commit();
    return { Listeners: [api.listenerShape(api.listener(entry.record.arn))] };
  },

  async DeleteListener({ api, params }: Call): Promise<Result> {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    const draft = new Draft(api.runtime, api.catalog);
    const { lb, index } = draft.listener(entry.record);
    lb.listeners.splice(index, 1);
    await draft.commit();
    return {};
  },

  DescribeListeners({ api, params }: Call): Result {
    const lbArn = params.string('LoadBalancerArn');
    const arns = params.strings('ListenerArns');
    if (lbArn === undefined && (arns === undefined || arns.length === 0)) throw new ApiError('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
    let entries = api.listeners();
    if (lbArn !== undefined) {
      const { lb } = api.loadBalancer(lbArn);
      entries = entries.filter((l) => l.lb === lb);
    }
    if (arns !== undefined && arns.length > 0) {
      const missing = arns.filter((a) => !entries.some((l) => l.record.arn === a));
      if (missing.length > 0) throw new ApiError('ListenerNotFound', `One or more listeners not found: '${missing.join("', '")}'`);
      entries = arns.map((a) => entries.find((l) => l.record.arn === a)!);
    }
    const { items, nextMarker } = page(entries, params);
    return { Listeners: items.map((l) => api.listenerShape(l)), NextMarker: nextMarker };
  },

  DescribeListenerAttributes({ api, params }: Call): Result {
    const { config } = api.listener(params.string('ListenerArn', { required: true }));
    const resolved = resolveAttributes(listenerAttributeCatalogue(config.protocol), {}, 'Attributes', config.attributes);
    return { Attributes: attributeList(resolved.ok ? resolved.attributes : config.attributes) };
  },

  async ModifyListenerAttributes({ api, params }: Call): Promise<Result> {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    const changes = readAttributes(params);
    const protocol = entry.config.protocol;
    if (protocol === 'TLS' || protocol === 'UDP') throw new ApiError('InvalidConfigurationRequest', `Listener attributes are not supported on ${protocol} listeners`);
    const resolved = resolveAttributes(listenerAttributeCatalogue(protocol), changes, 'Attributes', entry.config.attributes, {
      resource: 'Listener',
      kind: `${protocol} listeners`,
      elsewhere: { ...tcpListenerAttributes, ...applicationListenerAttributes('HTTPS') },
    });
    if (!resolved.ok) throw attributeError(resolved.issues);
    const draft = new Draft(api.runtime, api.catalog);
    const { listener } = draft.listener(entry.record);
    listener.attributes = { ...(listener.attributes ?? {}), ...changes };
    await draft.commit();
    return { Attributes: attributeList(resolved.attributes) };
  },

  async AddListenerCertificates({ api, params }: Call): Promise<Result> {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    const added = readCertificates(params) ?? [];
    if (added.length === 0) throw new ApiError('ValidationError', "1 validation error detected: Value null at 'certificates' failed to satisfy constraint: Member must not be null");
    if (entry.config.protocol !== 'HTTPS' && entry.config.protocol !== 'TLS') throw new ApiError('InvalidConfigurationRequest', `A ${entry.config.protocol} listener takes no certificates`);
    const draft = new Draft(api.runtime, api.catalog);
    const { listener } = draft.listener(entry.record);
    const certificates = [...(listener.certificates ?? [])];
    for (const arn of added) if (!certificates.slice(1).some((c) => c.certificateArn === arn)) certificates.push({ certificateArn: arn });
    const limit = entry.lb.config.type === 'network' ? LIMITS['certificates-per-network-load-balancer'] : LIMITS['certificates-per-application-load-balancer'];
    if (certificates.length - 1 > limit) throw new ApiError('TooManyCertificates', `A listener takes at most ${limit} certificates besides its default one`);
    listener.certificates = certificates;
    await draft.commit();
    return { Certificates: added.map((arn) => ({ CertificateArn: arn, IsDefault: false })) };
  },

  async RemoveListenerCertificates({ api, params }: Call): Promise<Result> {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    const removed = readCertificates(params) ?? [];
    const [defaultCertificate, ...list] = entry.config.certificates ?? [];
    for (const arn of removed) {
      if (arn === defaultCertificate?.certificateArn && !list.some((c) => c.certificateArn === arn)) {
        throw new ApiError('OperationNotPermitted', `The default certificate '${arn}' cannot be removed: ModifyListener replaces it`);
      }
    }
    const draft = new Draft(api.runtime, api.catalog);
    const { listener } = draft.listener(entry.record);
    const [first, ...rest] = listener.certificates ?? [];
    if (first !== undefined) listener.certificates = [first, ...rest.filter((c) => !removed.includes(c.certificateArn))];
    await draft.commit();
    return {};
  },

  DescribeListenerCertificates({ api, params }: Call): Result {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    const [defaultCertificate, ...list] = entry.config.certificates ?? [];
    const all = [
      ...(defaultCertificate !== undefined ? [{ CertificateArn: defaultCertificate.certificateArn, IsDefault: true }] : []),
      ...list.map((c) => ({ CertificateArn: c.certificateArn, IsDefault: false })),
    ];
    const { items, nextMarker } = page(all, params);
    return { Certificates: items, NextMarker: nextMarker };
  },
};

/** Action types and the groups they forward to: what tells an identical repeat CreateListener (config and input actions have the same fields). */
function actionSummary(actions: ReadonlyArray<Readonly<Record<string, unknown>>>): unknown {
  return actions.map((a) => {
    const forward = a['forwardConfig'] as { targetGroups: Array<{ targetGroupName: string }> } | undefined;
    return [a['type'], a['targetGroupName'] ?? forward?.targetGroups.map((g) => g.targetGroupName)];
  });
}
