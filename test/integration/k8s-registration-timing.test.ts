/**
 * Registration timing on `local-elb kind` (issue #14, spec 1.3): with a registration delay, a new
 * NLB target stays initial/Elb.RegistrationInProgress, and its pod's readiness gate False with
 * that reason, until the delay has passed; then it is health-checked, healthy, and the gate True.
 * Through the fake API server over real HTTP, pods as real local servers; polls with deadlines.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, endpointSlice, ingress, lbService, namespace, node, pod } from '../support/k8s-fixtures.ts';
import { runCli, startCli } from '../support/cli.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { testAddressPrefix, testController } from '../support/k8s-world.ts';

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

interface LogLine {
  time: number;
  event?: string;
  from?: string;
  to?: string;
  reason?: string;
}

/** When the one target registered, began to be checked (initial: Elb.InitialHealthChecking) and turned healthy, from its log lines. */
function registrationTimes(lines: readonly LogLine[]): { registeredMs: number; checkingMs: number; healthyMs: number } {
  const at = (what: string, pick: (l: LogLine) => boolean) => {
    const line = lines.find(pick);
    if (line === undefined) throw new Error(`no log line for ${what} in ${JSON.stringify(lines.filter((l) => l.event?.startsWith('target.')))}`);
    return line.time;
  };
  return {
    registeredMs: at('the registration', (l) => l.event === 'target.registered'),
    checkingMs: at('the first checks', (l) => l.event === 'target.state_changed' && l.to === 'initial' && l.reason === 'Elb.InitialHealthChecking'),
    healthyMs: at('healthy', (l) => l.event === 'target.state_changed' && l.to === 'healthy'),
  };
}

const gateOf = (api: FakeKubeApiServer) =>
  (api.get('v1', 'Pod', 'shop', 'web-1') as { status: { conditions?: Array<{ type: string; status: string; reason?: string }> } }).status.conditions?.find((c) => c.type === GATE);

describe('local-elb kind registration timing', () => {
  it('keeps a new NLB target initial/Elb.RegistrationInProgress, and its readiness gate False, until the delay has passed', async () => {
    const { api } = await cluster(8091);
    const lines: LogLine[] = [];
    const controller = testController(api, {
      registrationDelaySeconds: { network: 2 },
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) }) as unknown as Logger,
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
    // The checks began 2 s after the registration, by the controller's own log (polling from
    // here sees the registering state late on a busy machine: no bound on when it starts).
    expect(healthySeen).toBeGreaterThan(registeringSeen);
    const { registeredMs, checkingMs, healthyMs } = registrationTimes(lines);
    expect(checkingMs - registeredMs).toBeGreaterThanOrEqual(1_990);
    expect(healthyMs).toBeGreaterThanOrEqual(checkingMs);
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
    const cli = startCli(['kind', '--kubeconfig', api.writeKubeconfig(dir), '--address-prefix', testAddressPrefix(), '--admin', '127.0.0.1:0', '--aws-timing', '--registration-delay', 'nlb=2', '--log-format', 'json']);
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
    await waitFor(async () => (await describe())?.State === 'healthy', { timeoutMs: 15_000, what: 'the target healthy after 2 s, not the preset’s 120 s' });
    await waitFor(() => gateOf(api)?.status === 'True', { what: 'the readiness gate True' });
    // How long it registered, by the process's own log (a CLI call per poll may take seconds on
    // a busy machine, longer than the delay: polling could miss the registering state).
    const { registeredMs, checkingMs, healthyMs } = registrationTimes(cli.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine));
    expect(checkingMs - registeredMs).toBeGreaterThanOrEqual(1_990);
    expect(checkingMs - registeredMs).toBeLessThan(60_000);
    expect(healthyMs).toBeGreaterThanOrEqual(checkingMs);
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
