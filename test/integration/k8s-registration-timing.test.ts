/**
 * Registration timing on `local-elb kind` (issue #14, spec 1.3): with a registration delay, a new
 * NLB target stays initial/Elb.RegistrationInProgress, and its pod's readiness gate False with
 * that reason, until the delay has passed; then it is health-checked, healthy, and the gate True.
 * Through the fake API server over real HTTP, pods as real local servers; polls with deadlines.
 */
import { mkdtempSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, endpointSlice, ingress, lbService, namespace, node, pod } from '../support/k8s-fixtures.ts';
import { runCli, startCli } from '../support/cli.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { testController } from '../support/k8s-world.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

const GATE = 'target-health.elbv2.k8s.aws/web';

/** A namespace with readiness-gate injection, a pod (a real local server) with the gate, and an NLB Service with ip targets. */
async function cluster(servicePort: number) {
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  const web = await startTarget('web');
  cleanups.push(() => web.close());
  api.create(namespace('shop', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }));
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(pod('web-1', '127.0.0.1', { namespace: 'shop', containersReady: true, ready: false, gates: [GATE] }), { keepStatus: true });
  api.create(
    lbService('web', {
      namespace: 'shop',
      annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' },
      ports: [{ name: 'http', port: servicePort, targetPort: web.port }],
    }),
  );
  api.create(endpointSlice('web', [{ ip: '127.0.0.1', pod: 'web-1', node: 'worker', ready: false }], { namespace: 'shop', port: web.port }));
  return { api, web };
}

const gateOf = (api: FakeKubeApiServer) =>
  (api.get('v1', 'Pod', 'shop', 'web-1') as { status: { conditions?: Array<{ type: string; status: string; reason?: string }> } }).status.conditions?.find((c) => c.type === GATE);

describe('local-elb kind registration timing', () => {
  it('keeps a new NLB target initial/Elb.RegistrationInProgress, and its readiness gate False, until the delay has passed', async () => {
    const { api } = await cluster(8091);
    const controller = testController(api, {
      registrationDelaySeconds: { network: 2 },
    });
    cleanups.push(() => controller.stop());
    await controller.start();

    const health = () => controller.stacks().get('service/shop/web')?.elb.targetGroups()[0]?.describeTargetHealth()[0]?.targetHealth;
    await waitFor(() => health()?.reason === 'Elb.RegistrationInProgress', { what: 'the target registering' });
    const registeringSeen = Date.now();
    expect(health()).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
    // The gate's reason is the target's health while it registers.
    const falseGate = await waitFor(() => (gateOf(api)?.status === 'False' ? gateOf(api) : undefined), { what: 'the readiness gate False' });
    expect(falseGate.reason).toBe('Elb.RegistrationInProgress');
    expect(health()?.reason).toBe('Elb.RegistrationInProgress');

    await waitFor(() => health()?.state === 'healthy', { timeoutMs: 15_000, what: 'the target healthy after the delay' });
    const healthySeen = Date.now();
    await waitFor(() => gateOf(api)?.status === 'True', { what: 'the readiness gate True' });
    // Seen registering a little after it began: at least 2 s less that polling slack.
    expect(healthySeen - registeringSeen).toBeGreaterThanOrEqual(1_500);
  });

  it('delays by load balancer type: an ALB target of the same pod is healthy while the NLB target still registers', async () => {
    const { api } = await cluster(8093);
    api.create(albClass);
    api.create(
      ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 8093 }] }], {
        namespace: 'shop',
        annotations: { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8094}]', 'alb.ingress.kubernetes.io/healthcheck-path': '/healthz' },
      }),
    );
    const controller = testController(api, {
      registrationDelaySeconds: { network: 3 },
    });
    cleanups.push(() => controller.stop());
    await controller.start();
    const group = (key: string) => controller.stacks().get(key)?.elb.targetGroups()[0];
    await waitFor(() => group('ingress/shop/web')?.describeTargetHealth()[0]?.targetHealth.state === 'healthy', { what: 'the ALB target healthy' });
    expect(group('service/shop/web')?.describeTargetHealth()[0]?.targetHealth).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
    expect(controller.stacks().get('service/shop/web')!.elb.config.targetGroups.map((tg) => tg.emulator.registrationDelaySeconds)).toEqual([3]);
    expect(controller.stacks().get('ingress/shop/web')!.elb.config.targetGroups.map((tg) => tg.emulator.registrationDelaySeconds)).toEqual([0]);
    await waitFor(() => group('service/shop/web')?.describeTargetHealth()[0]?.targetHealth.state === 'healthy', { timeoutMs: 15_000, what: 'the NLB target healthy after 3 s' });
  });

  it('runs local-elb kind --aws-timing --registration-delay nlb=2: the explicit NLB value over the preset, printed at start', async () => {
    const { api } = await cluster(8092);
    const dir = mkdtempSync(join(tmpdir(), 'local-elb-kind-timing-'));
    const cli = startCli(['kind', '--kubeconfig', api.writeKubeconfig(dir), '--address-prefix', `127.${randomInt(100, 250)}`, '--admin', '127.0.0.1:0', '--aws-timing', '--registration-delay', 'nlb=2', '--log-level', 'warn']);
    cleanups.push(async () => void (await cli.stop('SIGKILL')));
    await cli.waitForStdout(/new targets register in 2 s on NLBs, 0 s on ALBs/);
    const [, admin] = await cli.waitForStdout(/admin API on (http:\/\/\S+)/);
    const describe = async () => {
      const groups = JSON.parse((await runCli(['describe-target-groups', '--admin', admin!])).stdout) as { TargetGroups: Array<{ TargetGroupName: string }> };
      const name = groups.TargetGroups[0]?.TargetGroupName;
      if (name === undefined) return undefined;
      const res = await runCli(['describe-target-health', '--target-group-name', name, '--admin', admin!]);
      return (JSON.parse(res.stdout) as { TargetHealthDescriptions: Array<{ TargetHealth: { State: string; Reason?: string } }> }).TargetHealthDescriptions[0]?.TargetHealth;
    };
    const registering = await waitFor(async () => ((await describe())?.Reason === 'Elb.RegistrationInProgress' ? describe() : undefined), { what: 'the target registering' });
    expect(registering).toMatchObject({ State: 'initial', Reason: 'Elb.RegistrationInProgress' });
    await waitFor(async () => (await describe())?.State === 'healthy', { timeoutMs: 15_000, what: 'the target healthy after 2 s, not the preset’s 120 s' });
    await waitFor(() => gateOf(api)?.status === 'True', { what: 'the readiness gate True' });
    expect(await cli.stop('SIGTERM')).toBe(0);
  });

  it.each([
    ['nlb=x', '(nlb: "x" is not an integer 0–600)'],
    ['700', '("700" is not an integer 0–600)'],
    ['elb=5', '("elb" is not alb or nlb)'],
  ])('refuses local-elb kind --registration-delay %s, naming the flag, the value and what is allowed', async (value, why) => {
    const res = await runCli(['kind', '--registration-delay', value, '--no-admin']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`option '--registration-delay <seconds | alb=S,nlb=S>' argument '${value}' is invalid.`);
    expect(res.stderr).toContain(`expected seconds (an integer 0–600) for both types, or alb=SECONDS,nlb=SECONDS with either or both: got ${JSON.stringify(value)} ${why}`);
  });
});
