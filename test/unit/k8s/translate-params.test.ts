/**
 * IngressClassParams and IngressClass.spec.parameters, translated (spec 15.4): loading and the
 * references' errors, each field over or merged with its annotation, the group conflicts that
 * fail the whole group, namespaceSelector. Messages are the controller's own.
 */
import { describe, expect, it } from 'vitest';
import type { V1IngressClass } from '@kubernetes/client-node';
import { parseConfig } from '../../../src/config/schema.ts';
import type { IngressClassParams, IngressClassParamsSpec } from '../../../src/k8s/ingress-class-params.ts';
import { selectorMatches } from '../../../src/k8s/ingress-class-params.ts';
import { translate, type ClusterSnapshot, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, namespace, node, snapshot } from '../../support/k8s-fixtures.ts';

const ING = 'alb.ingress.kubernetes.io/';
const ARN_A = 'arn:aws:acm:eu-west-1:111122223333:certificate/a';
const ARN_B = 'arn:aws:acm:eu-west-1:111122223333:certificate/b';
const nodes = [node('worker', '172.18.0.3')];
const namespaces = [namespace('default'), namespace('team-a', { team: 'a' }), namespace('team-b', { team: 'b' })];
const services = ['default', 'team-a', 'team-b'].map((ns) => lbService('web', { namespace: ns, type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30082 }] }));

function params(name: string, spec: IngressClassParamsSpec): IngressClassParams {
  return { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'IngressClassParams', metadata: { name }, spec };
}

function paramsClass(name: string, paramsName: string, ref: { apiGroup?: string; kind?: string } = {}): V1IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name },
    spec: { controller: 'ingress.k8s.aws/alb', parameters: { apiGroup: ref.apiGroup ?? 'elbv2.k8s.aws', kind: ref.kind ?? 'IngressClassParams', name: paramsName } },
  };
}

function ing(name: string, options: { namespace?: string; className?: string | null; annotations?: Record<string, string>; host?: string } = {}) {
  return ingress(name, [{ ...(options.host ? { host: options.host } : {}), paths: [{ path: '/', service: 'web', port: 80 }] }], {
    namespace: options.namespace ?? 'default',
    className: options.className === undefined ? 'shared' : options.className,
    annotations: options.annotations ?? {},
  });
}

function run(spec: IngressClassParamsSpec | IngressClassParams[], ...ingresses: ReturnType<typeof ingress>[]) {
  const all = Array.isArray(spec) ? spec : [params('shared-params', spec)];
  const parts: Partial<ClusterSnapshot> = {
    services,
    nodes,
    namespaces,
    ingresses,
    ingressClasses: [albClass, paramsClass('shared', 'shared-params'), paramsClass('other', 'other-params')],
    ingressClassParams: all,
  };
  return translate(snapshot(parts));
}

function onlyStack(r: ReturnType<typeof translate>): DesiredStack {
  expect(r.rejected).toEqual([]);
  expect(r.stacks).toHaveLength(1);
  return r.stacks[0]!;
}

const lbOf = (s: DesiredStack) => s.config.loadBalancers![0]!;
const listenersOf = (s: DesiredStack) => lbOf(s).listeners;

describe('IngressClassParams: loading and the group', () => {
  it('puts every Ingress of the class into the params group, across namespaces, without group annotations', () => {
    const s = onlyStack(run({ group: { name: 'shared-alb' } }, ing('a', { namespace: 'team-a', host: 'a.example' }), ing('b', { namespace: 'team-b', host: 'b.example' })));
    expect(s.key).toBe('ingress/shared-alb');
    expect(s.owners.map((o) => `${o.namespace}/${o.name}`)).toEqual(['team-a/a', 'team-b/b']);
    expect(listenersOf(s)[0]!.rules!.map((r) => r.conditions[0]!.values)).toEqual([['a.example'], ['b.example']]);
  });

  it('beats the group.name annotation of an Ingress of the class; another class joins by annotation', () => {
    const r = run(
      { group: { name: 'from-params' } },
      ing('a', { annotations: { [`${ING}group.name`]: 'from-annotation' } }),
      ing('b', { className: 'alb', annotations: { [`${ING}group.name`]: 'from-params' } }),
    );
    expect(onlyStack(r).key).toBe('ingress/from-params');
    expect(onlyStack(r).owners.map((o) => o.name)).toEqual(['a', 'b']);
  });

  it('gives no params to an Ingress with the kubernetes.io/ingress.class annotation, which beats ingressClassName', () => {
    const s = onlyStack(run({ group: { name: 'g' }, scheme: 'internet-facing' }, ing('legacy', { annotations: { 'kubernetes.io/ingress.class': 'alb' } })));
    expect(s.key).toBe('ingress/default/legacy');
    expect(s.paramsNotices).toEqual([]);
  });

  it('an Ingress with the annotation naming another controller is not the controller’s, whatever its ingressClassName', () => {
    expect(run({}, ing('nginx', { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }))).toEqual({ stacks: [], rejected: [] });
  });

  it.each([
    ['a wrong apiGroup', paramsClass('shared', 'shared-params', { apiGroup: 'example.com' }), 'invalid ingress class: IngressClass shared references unknown parameters'],
    ['a wrong kind', paramsClass('shared', 'shared-params', { kind: 'ConfigMap' }), 'invalid ingress class: IngressClass shared references unknown parameters'],
    ['params that do not exist', paramsClass('shared', 'missing'), 'invalid ingress class: ingressclassparams.elbv2.k8s.aws "missing" not found'],
  ])('refuses an Ingress whose IngressClass names %s (FailedLoadGroupID), and keeps the rest of the group', (_, ingressClass, message) => {
    const r = translate(
      snapshot({
        services,
        nodes,
        namespaces,
        ingressClasses: [albClass, ingressClass],
        ingressClassParams: [params('shared-params', {})],
        ingresses: [ing('bad', { annotations: { [`${ING}group.name`]: 'g' } }), ing('good', { className: 'alb', annotations: { [`${ING}group.name`]: 'g' } })],
      }),
    );
    expect(r.rejected).toEqual([{ ref: { kind: 'Ingress', namespace: 'default', name: 'bad' }, reason: message, event: { reason: 'FailedLoadGroupID', message: `failed load groupID due to ${message}` } }]);
    expect(r.stacks.map((s) => s.owners.map((o) => o.name))).toEqual([['good']]);
  });

  it('gives an Ingress without a class the default IngressClass and its params; two defaults are the controller’s error', () => {
    const defaultClass = { ...paramsClass('shared', 'shared-params'), metadata: { name: 'shared', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } };
    const cluster = (classes: V1IngressClass[]) =>
      translate(snapshot({ services, nodes, namespaces, ingresses: [ing('plain', { className: null })], ingressClasses: classes, ingressClassParams: [params('shared-params', { group: { name: 'g' } })] }));
    expect(onlyStack(cluster([albClass, defaultClass])).key).toBe('ingress/g');
    expect(cluster([albClass]).stacks).toEqual([]);
    const second = { ...albClass, metadata: { name: 'alb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } };
    expect(cluster([second, defaultClass]).rejected).toEqual([
      { ref: { kind: 'Ingress', namespace: 'default', name: 'plain' }, reason: 'multiple default IngressClasses found', event: { reason: 'FailedLoadGroupID', message: 'failed load groupID due to multiple default IngressClasses found' } },
    ]);
  });

  it('refuses an Ingress whose ingressClassName names no IngressClass', () => {
    const r = run({}, ing('lost', { className: 'nope' }));
    expect(r.rejected[0]!.reason).toBe('invalid ingress class: ingressclasses.networking.k8s.io "nope" not found');
  });

  it('refuses a params group name the controller refuses', () => {
    const r = run({ group: { name: 'Bad_Name' } }, ing('a'));
    expect(r.rejected[0]).toMatchObject({
      reason: "invalid ingress group: groupName must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      event: { reason: 'FailedLoadGroupID' },
    });
  });
});

describe('IngressClassParams: namespaceSelector', () => {
  it.each([
    ['matchLabels that match', { matchLabels: { team: 'a' } }, 'team-a', true],
    ['matchLabels that do not match', { matchLabels: { team: 'a' } }, 'team-b', false],
    ['an empty selector (matches all)', {}, 'team-b', true],
    ['matchExpressions In', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, 'team-b', true],
    ['matchExpressions NotIn', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['b'] }] }, 'team-b', false],
    ['matchExpressions Exists on a namespace without the label', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, 'default', false],
    ['matchExpressions DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, 'default', true],
  ])('%s: %s → reconciled %s', (_, namespaceSelector, ns, reconciled) => {
    const r = run({ namespaceSelector }, ing('x', { namespace: ns }));
    if (reconciled) onlyStack(r);
    else {
      expect(r.stacks).toEqual([]);
      expect(r.rejected[0]).toEqual({
        ref: { kind: 'Ingress', namespace: ns, name: 'x' },
        reason: 'invalid ingress class: namespaceSelector of IngressClassParams shared-params mismatch',
        event: { reason: 'FailedLoadGroupID', message: 'failed load groupID due to invalid ingress class: namespaceSelector of IngressClassParams shared-params mismatch' },
      });
    }
  });

  it('refuses an unknown selector operator with the selector error', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'Near' }] }, {})).toEqual({ error: '"Near" is not a valid label selector operator' });
  });
});

describe('IngressClassParams: fields over annotations (overrides)', () => {
  it('loadBalancerName names the load balancer, over the load-balancer-name annotation', () => {
    const s = onlyStack(run({ loadBalancerName: 'team-alb' }, ing('a', { annotations: { [`${ING}load-balancer-name`]: 'mine' } })));
    expect(lbOf(s).name).toBe('team-alb');
  });

  it('the load-balancer-name annotation names the load balancer when the params do not', () => {
    expect(lbOf(onlyStack(run({}, ing('a', { annotations: { [`${ING}load-balancer-name`]: 'mine' } })))).name).toBe('mine');
  });

  it('certificateArn and sslPolicy replace the annotations on the HTTPS listeners', () => {
    const s = onlyStack(
      run(
        { certificateArn: [ARN_A, ARN_B], sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' },
        ing('a', { annotations: { [`${ING}listen-ports`]: '[{"HTTPS":443}]', [`${ING}certificate-arn`]: 'arn:aws:acm:eu-west-1:111122223333:certificate/z', [`${ING}ssl-policy`]: 'ELBSecurityPolicy-2016-08' } }),
      ),
    );
    expect(listenersOf(s)[0]).toMatchObject({ port: 443, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', certificates: [{ certificateArn: ARN_A }, { certificateArn: ARN_B }] });
  });

  it('certificateArn makes the default listen port HTTPS:443, as the annotation does', () => {
    expect(listenersOf(onlyStack(run({ certificateArn: [ARN_A] }, ing('a'))))[0]).toMatchObject({ port: 443, protocol: 'HTTPS' });
  });

  it('sslRedirectPort redirects the HTTP listeners, over the ssl-redirect annotation', () => {
    const s = onlyStack(
      run({ sslRedirectPort: '8443', certificateArn: [ARN_A] }, ing('a', { annotations: { [`${ING}listen-ports`]: '[{"HTTP":80},{"HTTPS":443},{"HTTPS":8443}]', [`${ING}ssl-redirect`]: '443' } })),
    );
    expect(listenersOf(s)[0]!.defaultActions).toEqual([{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '8443', statusCode: 'HTTP_301' } }]);
  });

  it('an sslRedirectPort that is not a number leaves the whole group without a redirect (the controller’s code), and says so', () => {
    const s = onlyStack(run({ sslRedirectPort: 'https', certificateArn: [ARN_A] }, ing('a', { annotations: { [`${ING}listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]', [`${ING}ssl-redirect`]: '443' } })));
    expect(listenersOf(s)[0]).toMatchObject({ port: 80, rules: [{ actions: [{ type: 'forward' }] }], defaultActions: [{ type: 'fixed-response' }] });
    expect(s.paramsNotices).toContain('IngressClassParams shared-params: sslRedirectPort "https" is not an integer: the controller then configures no SSL redirect for the group (as here)');
  });

  it('targetType beats the target-type annotation of the Ingress and of the Service', () => {
    const s = onlyStack(run({ targetType: 'ip' }, ing('a', { annotations: { [`${ING}target-type`]: 'instance' } })));
    expect(s.config.targetGroups![0]!.targetType).toBe('ip');
  });

  it.each([
    ['scheme', { scheme: 'internet-facing' as const }, { [`${ING}scheme`]: 'internal' }, 'spec.scheme "internet-facing" is accepted with no local meaning: the load balancer\'s scheme is internet-facing'],
    ['ipAddressType', { ipAddressType: 'dualstack' as const }, { [`${ING}ip-address-type`]: 'ipv4' }, 'spec.ipAddressType "dualstack" is accepted with no local meaning: the load balancer\'s IP address type is dualstack'],
  ])('%s is the group’s, over the annotation, and reported as having no local meaning', (_, spec, annotations, notice) => {
    const s = onlyStack(run(spec, ing('a', { annotations })));
    expect(s.paramsNotices!.some((n) => n.includes(notice))).toBe(true);
  });

  it.each([
    ['subnets', { subnets: { ids: ['subnet-0abc'] } }, 'spec.subnets'],
    ['inboundCIDRs', { inboundCIDRs: ['10.0.0.0/8'] }, 'spec.inboundCIDRs'],
    ['prefixListsIDs', { prefixListsIDs: ['pl-00000001'] }, 'spec.prefixListsIDs'],
    ['the legacy PrefixListsIDs', { PrefixListsIDs: ['pl-00000001'] }, 'spec.PrefixListsIDs'],
    ['minimumLoadBalancerCapacity', { minimumLoadBalancerCapacity: { capacityUnits: 100 } }, 'spec.minimumLoadBalancerCapacity'],
    ['ipamConfiguration', { ipamConfiguration: { ipv4IPAMPoolId: 'ipam-pool-1' } }, 'spec.ipamConfiguration'],
    ['wafv2AclName', { wafv2AclName: 'web-acl' }, 'spec.wafv2AclName'],
    ['wafv2AclArn', { wafv2AclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/1' }, 'spec.wafv2AclArn'],
  ])('%s is read and reported as having no local meaning (a Normal notice)', (_, spec, field) => {
    const s = onlyStack(run(spec as IngressClassParamsSpec, ing('a')));
    expect(s.paramsNotices!.filter((n) => n.startsWith(`IngressClassParams shared-params: ${field} `) && n.includes('is accepted with no local meaning'))).toHaveLength(1);
  });
});

describe('IngressClassParams: tags and attributes (merge)', () => {
  it('tags merge over the tags annotation, key by key, the params winning a key', () => {
    const s = onlyStack(run({ tags: [{ key: 'team', value: 'platform' }, { key: 'env', value: 'dev' }] }, ing('a', { annotations: { [`${ING}tags`]: 'team=web,cost=42' } })));
    expect(s.tags).toEqual({ team: 'platform', cost: '42', env: 'dev' });
    expect(s.paramsNotices!.some((n) => n.includes('spec.tags') && n.includes('team=platform'))).toBe(true);
  });

  it('loadBalancerAttributes merge over the load-balancer-attributes annotation, the params winning a key', () => {
    const s = onlyStack(
      run({ loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '120' }] }, ing('a', { annotations: { [`${ING}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=30,routing.http2.enabled=false' } })),
    );
    expect(lbOf(s).attributes).toEqual({ 'idle_timeout.timeout_seconds': '120', 'routing.http2.enabled': 'false' });
    expect(() => parseConfig({ ...s.config })).not.toThrow();
  });

  it('listeners[].listenerAttributes merge per protocol and port over listener-attributes.<PROTO>-<port>, and create no listener', () => {
    const s = onlyStack(
      run(
        {
          listeners: [
            { protocol: 'HTTP', port: 80, listenerAttributes: [{ key: 'routing.http.response.server.enabled', value: 'false' }] },
            { protocol: 'HTTP', port: 8080, listenerAttributes: [{ key: 'routing.http.response.server.enabled', value: 'false' }] },
          ],
        },
        ing('a', { annotations: { [`${ING}listener-attributes.HTTP-80`]: 'routing.http.response.server.enabled=true,routing.http.response.strict_transport_security.header_value=max-age=1' } }),
      ),
    );
    expect(listenersOf(s).map((l) => l.port)).toEqual([80]);
    expect(listenersOf(s)[0]!.attributes).toEqual({ 'routing.http.response.server.enabled': 'false', 'routing.http.response.strict_transport_security.header_value': 'max-age=1' });
  });

  it('two members’ load balancer attributes that disagree are resolved by the first member’s class when it sets the key (a notice)', () => {
    const s = onlyStack(
      run(
        { group: { name: 'g' }, loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '300' }] },
        ing('a', { annotations: { [`${ING}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=30' } }),
        ing('b', { annotations: { [`${ING}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=60' } }),
      ),
    );
    expect(lbOf(s).attributes).toEqual({ 'idle_timeout.timeout_seconds': '300' });
    expect(s.paramsNotices).toContain('load balancer attribute conflict resolved by ingress class: idle_timeout.timeout_seconds: 30 | 60: IngressClassParams shared-params sets 300');
  });
});

describe('IngressClassParams: conflicts inside a group fail the whole group (FailedBuildModel)', () => {
  const twoClasses = (spec: IngressClassParamsSpec, otherSpec: IngressClassParamsSpec, bAnnotations: Record<string, string> = {}, aAnnotations: Record<string, string> = {}) =>
    run(
      [params('shared-params', { group: { name: 'g' }, ...spec }), params('other-params', { group: { name: 'g' }, ...otherSpec })],
      ing('a', { annotations: aAnnotations }),
      ing('b', { className: 'other', annotations: bAnnotations }),
    );

  it.each([
    ['scheme: params against params', { scheme: 'internal' }, { scheme: 'internet-facing' }, {}, 'conflicting scheme: map[internal:{} internet-facing:{}]'],
    ['scheme: params against an annotation', { scheme: 'internal' }, {}, { [`${ING}scheme`]: 'internet-facing' }, 'conflicting scheme: map[internal:{} internet-facing:{}]'],
    ['ipAddressType', { ipAddressType: 'ipv4' }, { ipAddressType: 'dualstack' }, {}, 'conflicting IPAddressType: [dualstack ipv4]'],
    ['loadBalancerName', { loadBalancerName: 'one' }, {}, { [`${ING}load-balancer-name`]: 'two' }, 'conflicting load balancer name: map[one:{} two:{}]'],
    ['sslRedirectPort', { sslRedirectPort: '443' }, { sslRedirectPort: '8443' }, {}, 'conflicting sslRedirect port: [443 8443]'],
    ['subnets: params and an annotation', { subnets: { ids: ['subnet-0a'] } }, {}, { [`${ING}subnets`]: 'subnet-0b' }, 'conflicting subnet specifications: IngressClassParams versus annotation'],
    ['subnets: two params', { subnets: { ids: ['subnet-0a'] } }, { subnets: { ids: ['subnet-0b'] } }, {}, 'conflicting IngressClassParams subnet specifications'],
    ['a tag key', { tags: [{ key: 'team', value: 'a' }] }, { tags: [{ key: 'team', value: 'b' }] }, {}, 'conflicting tag team: a | b'],
    ['a tag key: params against an annotation', { tags: [{ key: 'team', value: 'a' }] }, {}, { [`${ING}tags`]: 'team=b' }, 'conflicting tag team: a | b'],
    ['load balancer attributes the first class does not set', {}, {}, { [`${ING}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=60' }, 'conflicting load balancer attributes idle_timeout.timeout_seconds: 30 | 60'],
    ['listener attributes the first class does not set', {}, {}, { [`${ING}listener-attributes.HTTP-80`]: 'routing.http.response.server.enabled=false' }, 'conflicting listener attributes routing.http.response.server.enabled: true | false for ingress default/b'],
    ['WAFv2 names', { wafv2AclName: 'x' }, { wafv2AclName: 'y' }, {}, 'conflicting WAFv2 WebACL names: [x y]'],
    ['WAFv2 ARNs', { wafv2AclArn: 'arn:x' }, { wafv2AclArn: 'arn:y' }, {}, 'conflicting WAFv2 WebACL ARNs: [arn:x arn:y]'],
    ['capacity reservations the first class does not set', {}, { minimumLoadBalancerCapacity: { capacityUnits: 9 } }, { [`${ING}minimum-load-balancer-capacity`]: 'CapacityUnits=200' }, 'conflicting capacity reservation CapacityUnits: 100 | 200'],
    ['IPAM pools the first class does not set', {}, {}, { [`${ING}ipam-ipv4-pool-id`]: 'ipam-pool-b' }, 'conflicting ipv4 ipam pools ipam-pool-a: ipam-pool-b'],
  ] as Array<[string, IngressClassParamsSpec, IngressClassParamsSpec, Record<string, string>, string]>)('%s', (_, spec, otherSpec, bAnnotations, message) => {
    const aAnnotations: Record<string, string> = {
      [`${ING}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=30',
      [`${ING}listener-attributes.HTTP-80`]: 'routing.http.response.server.enabled=true',
      [`${ING}minimum-load-balancer-capacity`]: 'CapacityUnits=100',
      [`${ING}ipam-ipv4-pool-id`]: 'ipam-pool-a',
      ...(spec.sslRedirectPort ? { [`${ING}listen-ports`]: '[{"HTTP":80},{"HTTPS":443},{"HTTPS":8443}]' } : {}),
    };
    const b = spec.sslRedirectPort ? { [`${ING}listen-ports`]: '[{"HTTP":80},{"HTTPS":443},{"HTTPS":8443}]', ...bAnnotations } : bAnnotations;
    const r = twoClasses({ ...spec, ...(spec.sslRedirectPort ? { certificateArn: [ARN_A] } : {}) }, { ...otherSpec, ...(otherSpec.sslRedirectPort ? { certificateArn: [ARN_A] } : {}) }, b, aAnnotations);
    expect(r.stacks).toEqual([]);
    expect(r.rejected).toEqual(
      ['a', 'b'].map((name) => ({
        ref: { kind: 'Ingress', namespace: 'default', name },
        reason: message,
        event: { reason: 'FailedBuildModel', message: `Failed build model due to ${message}` },
        keepStack: 'ingress/g',
      })),
    );
  });

  it('the first member’s class capacity reservation and IPAM pool decide over disagreeing annotations', () => {
    const r = twoClasses(
      { minimumLoadBalancerCapacity: { capacityUnits: 100 }, ipamConfiguration: { ipv4IPAMPoolId: 'ipam-pool-c' } },
      {},
      { [`${ING}minimum-load-balancer-capacity`]: 'CapacityUnits=200', [`${ING}ipam-ipv4-pool-id`]: 'ipam-pool-b' },
      { [`${ING}minimum-load-balancer-capacity`]: 'CapacityUnits=100', [`${ING}ipam-ipv4-pool-id`]: 'ipam-pool-a' },
    );
    onlyStack(r);
  });

  it.each([
    ['a key other than CapacityUnits', 'Units=5', 'invalid key to set the capacity: Units, Expected key: CapacityUnits'],
    ['a value that is not a number', 'CapacityUnits=lots', 'invalid value to set the capacity: lots: strconv.ParseInt: parsing "lots": invalid syntax'],
  ])('minimum-load-balancer-capacity with %s fails the group', (_, raw, message) => {
    expect(run({}, ing('a', { annotations: { [`${ING}minimum-load-balancer-capacity`]: raw } })).rejected[0]).toMatchObject({ reason: message, event: { reason: 'FailedBuildModel' } });
  });

  it('a load balancer name over 32 characters fails the group', () => {
    const r = run({ loadBalancerName: 'x'.repeat(33) }, ing('a'));
    expect(r.rejected[0]).toMatchObject({ reason: 'load balancer name cannot be longer than 32 characters', event: { reason: 'FailedBuildModel' } });
  });

  it('an unknown scheme in an annotation fails the group', () => {
    expect(run({}, ing('a', { annotations: { [`${ING}scheme`]: 'public' } })).rejected[0]!.reason).toBe('unknown scheme: public');
  });

  it('the same value from params and an annotation is no conflict', () => {
    const r = twoClasses({ scheme: 'internal', tags: [{ key: 'team', value: 'a' }] }, {}, { [`${ING}scheme`]: 'internal', [`${ING}tags`]: 'team=a' });
    expect(onlyStack(r).tags).toEqual({ team: 'a' });
  });
});
