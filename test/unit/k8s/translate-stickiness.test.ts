/**
 * Sticky sessions through the Load Balancer Controller's annotations (spec 9.2, 9.3, 3.3–3.5):
 * `stickiness.*` in `alb.ingress.kubernetes.io/target-group-attributes`, the
 * `targetGroupStickinessConfig` of an `actions.<name>` weighted forward, and NLB source_ip
 * stickiness in `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes`. The
 * translation passes them on as the controller does; the config validates them as AWS would.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const ING = 'alb.ingress.kubernetes.io/';
const SVC = 'service.beta.kubernetes.io/';
const nodes = [node('worker', '172.18.0.3')];

const backend = (name: string, nodePort: number, annotations: Record<string, string> = {}) =>
  lbService(name, { type: 'NodePort', loadBalancerClass: null, annotations, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort }] });

function ingressStack(annotations: Record<string, string>, port: number | string = 80, serviceName = 'web'): DesiredStack {
  const r = translate(
    snapshot({
      services: [backend('web', 30080), backend('blue', 30081), backend('green', 30082)],
      ingresses: [ingress('shop', [{ paths: [{ path: '/', service: serviceName, port }] }], { annotations })],
      ingressClasses: [albClass],
      nodes,
    }),
  );
  expect(r.rejected).toEqual([]);
  expect(r.stacks).toHaveLength(1);
  return r.stacks[0]!;
}

function configIssues(stack: DesiredStack): string[] {
  try {
    parseConfig(stack.config);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
}

const weightedAction = (stickiness?: unknown) =>
  JSON.stringify({
    type: 'forward',
    forwardConfig: {
      targetGroups: [
        { serviceName: 'blue', servicePort: 80, weight: 80 },
        { serviceName: 'green', servicePort: 80, weight: 20 },
      ],
      ...(stickiness !== undefined ? { targetGroupStickinessConfig: stickiness } : {}),
    },
  });

describe('Ingress target-group-attributes: stickiness.* (spec 9.3, 3.3)', () => {
  it.each<[string, string, Record<string, string>]>([
    ['duration-based for 60 s', 'stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=60', { 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' }],
    [
      'application-based on SESSIONID',
      'stickiness.enabled=true,stickiness.type=app_cookie,stickiness.app_cookie.cookie_name=SESSIONID,stickiness.app_cookie.duration_seconds=1860',
      { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID', 'stickiness.app_cookie.duration_seconds': '1860' },
    ],
  ])('passes %s to the target group, and the config takes it', (_case, value, expected) => {
    const stack = ingressStack({ [`${ING}target-type`]: 'ip', [`${ING}target-group-attributes`]: value });
    expect(stack.config.targetGroups![0]!.attributes).toEqual(expected);
    expect(configIssues(stack)).toEqual([]);
  });

  it.each<[string, string, RegExp]>([
    ['a reserved application cookie name', 'stickiness.enabled=true,stickiness.type=app_cookie,stickiness.app_cookie.cookie_name=AWSALBAPP', /stickiness\.app_cookie\.cookie_name.*reserved/],
    ['app_cookie without a name', 'stickiness.enabled=true,stickiness.type=app_cookie', /You must set an application cookie name/],
    ['a duration past 7 days', 'stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=604801', /1–604800/],
  ])('hands %s to the config, which refuses it as AWS would', (_case, value, why) => {
    const [issue] = configIssues(ingressStack({ [`${ING}target-group-attributes`]: value }));
    expect(issue).toMatch(why);
  });
});

describe('Ingress actions.<name>: targetGroupStickinessConfig (spec 9.3, 3.4)', () => {
  const withAction = (action: string, attributes?: string) =>
    ingressStack({ [`${ING}actions.split`]: action, ...(attributes ? { [`${ING}target-group-attributes`]: attributes } : {}) }, 'use-annotation', 'split');

  it('keeps the weighted forward with its group stickiness', () => {
    const stack = withAction(weightedAction({ enabled: true, durationSeconds: 200 }));
    const action = stack.config.loadBalancers![0]!.listeners![0]!.rules![0]!.actions![0]!;
    expect(action).toMatchObject({ type: 'forward', forwardConfig: { targetGroupStickinessConfig: { enabled: true, durationSeconds: 200 } } });
    expect(action.type === 'forward' && action.forwardConfig?.targetGroups.map((g) => g.weight)).toEqual([80, 20]);
    expect(configIssues(stack)).toEqual([]);
  });

  it('keeps group stickiness on a forward to one service', () => {
    const action = JSON.stringify({ type: 'forward', forwardConfig: { targetGroups: [{ serviceName: 'blue', servicePort: 80 }], targetGroupStickinessConfig: { enabled: true, durationSeconds: 30 } } });
    const stack = withAction(action);
    expect(stack.config.loadBalancers![0]!.listeners![0]!.rules![0]!.actions![0]!).toMatchObject({ forwardConfig: { targetGroupStickinessConfig: { enabled: true, durationSeconds: 30 } } });
  });

  it('no longer drops it silently: enabled without durationSeconds reaches the config, which names the field', () => {
    const [issue] = configIssues(withAction(weightedAction({ enabled: true })));
    expect(issue).toMatch(/targetGroupStickinessConfig\.durationSeconds: is required/);
  });

  it('sticky groups behind a weighted forward without group stickiness are refused (spec 3.3)', () => {
    const [issue] = configIssues(withAction(weightedAction(), 'stickiness.enabled=true'));
    expect(issue).toMatch(/needs target group stickiness enabled/);
  });

  it('sticky groups behind a weighted forward with group stickiness are served', () => {
    expect(configIssues(withAction(weightedAction({ enabled: true, durationSeconds: 60 }), 'stickiness.enabled=true'))).toEqual([]);
  });

  it('refuses a targetGroupStickinessConfig of the wrong JSON types with the controller decoding error instead of guessing', () => {
    const r = translate(
      snapshot({
        services: [backend('blue', 30081), backend('green', 30082)],
        ingresses: [ingress('shop', [{ paths: [{ path: '/', service: 'split', port: 'use-annotation' }] }], { annotations: { [`${ING}actions.split`]: weightedAction({ enabled: 'true', durationSeconds: '60' }) } })],
        ingressClasses: [albClass],
        nodes,
      }),
    );
    expect(r.stacks).toEqual([]);
    expect(r.rejected[0]!.reason).toMatch(
      /^ingress: default\/shop: failed to parse json annotation, alb\.ingress\.kubernetes\.io\/actions\.split: .*: json: cannot unmarshal string into Go struct field TargetGroupStickinessConfig\.forwardConfig\.targetGroupStickinessConfig\.enabled of type bool$/,
    );
  });
});

describe('Service target-group-attributes: NLB source_ip stickiness (spec 9.2, 3.5)', () => {
  function serviceStack(annotations: Record<string, string>, protocol: 'TCP' | 'UDP' = 'TCP'): DesiredStack {
    const r = translate(snapshot({ services: [lbService('game', { annotations, ports: [{ name: 'p', port: 7000, targetPort: 7000, nodePort: 30700, protocol }] })], nodes }));
    expect(r.rejected).toEqual([]);
    return r.stacks[0]!;
  }

  it.each(['TCP', 'UDP'] as const)('passes stickiness.enabled=true,stickiness.type=source_ip to the %s target group', (protocol) => {
    const stack = serviceStack({ [`${SVC}aws-load-balancer-target-group-attributes`]: 'stickiness.enabled=true,stickiness.type=source_ip' }, protocol);
    expect(stack.config.targetGroups![0]!.attributes).toMatchObject({ 'stickiness.enabled': 'true', 'stickiness.type': 'source_ip' });
    expect(configIssues(stack)).toEqual([]);
  });

  it('takes the port-specific annotation over the general one', () => {
    const stack = serviceStack({
      [`${SVC}aws-load-balancer-target-group-attributes`]: 'stickiness.enabled=false',
      [`${SVC}aws-load-balancer-target-group-attributes.7000`]: 'stickiness.enabled=true',
    });
    expect(stack.config.targetGroups![0]!.attributes?.['stickiness.enabled']).toBe('true');
  });

  it('refuses an ALB stickiness type on an NLB group', () => {
    const [issue] = configIssues(serviceStack({ [`${SVC}aws-load-balancer-target-group-attributes`]: 'stickiness.enabled=true,stickiness.type=lb_cookie' }));
    expect(issue).toMatch(/stickiness\.type.*source_ip/);
  });
});
