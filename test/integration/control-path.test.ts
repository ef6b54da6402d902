/**
 * Local pods and `local-elb kind` share one control path (endpoints → desiredTargets →
 * TargetRegistrar → TargetGroup; readiness gates from target health). The same rollout of two
 * real pods (the graceful example app, readiness gate on, maxSurge 1, maxUnavailable 0) runs
 * once with local pods (LocalElb) and once through the fake API server (KubernetesController,
 * with a fake kubelet and EndpointSlice controller for the same pods), with the same lags and
 * health-check settings, under the same load. Both must log the same target-state events for
 * each pod, reach each state in the same order of pods, and lose no request.
 */
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { parseConfig, type ConfigInput } from '../../src/config/schema.ts';
import { startLoad } from '../../src/harness/load.ts';
import type { LoadReport } from '../../src/harness/report.ts';
import { KubernetesController } from '../../src/k8s/controller.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import { Deployment } from '../../src/pods/deployment.ts';
import { PodIpAllocator } from '../../src/pods/ip-allocator.ts';
import { networkProber } from '../../src/pods/probes.ts';
import { childProcessRuntime } from '../../src/pods/runtime.ts';
import { Timeline, type TimelineEvent } from '../../src/pods/timeline.ts';
import type { TargetGroup } from '../../src/targets/target-group.ts';
import { startFakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, ingress, lbService, namespace, node } from '../support/k8s-fixtures.ts';
import { FakeKubelet } from '../support/kubelet.ts';
import { waitFor } from '../support/wait.ts';
import { testController, testOctet } from '../support/k8s-world.ts';

const app = fileURLToPath(new URL('../../examples/apps/graceful-server.mjs', import.meta.url));
const POD_PORT = 8080;
// The lags of spec 9.6, small but distinct so every step is its own event.
const LAGS = { endpointsDelaySeconds: 0.3, registrationDelaySeconds: 0.3, deregistrationLagSeconds: 0.2 };
const DEREGISTRATION_DELAY_SECONDS = 1;

const podsInput = {
  command: ['node', app],
  port: POD_PORT,
  replicas: 2,
  readinessGate: true,
  readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 0.5, failureThreshold: 1 },
  // Longer than endpoints delay + deregistration lag + the controller's reaction: no request lost.
  lifecycle: { preStop: { sleep: { seconds: 1.5 } } },
  terminationGracePeriodSeconds: 10,
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
};

const localConfig: ConfigInput = {
  targetGroups: [
    {
      name: 'web',
      protocol: 'HTTP',
      port: POD_PORT,
      healthCheckPath: '/ready',
      healthCheckIntervalSeconds: 5,
      healthCheckTimeoutSeconds: 2,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: '200-399' },
      attributes: { 'deregistration_delay.timeout_seconds': String(DEREGISTRATION_DELAY_SECONDS) },
      pods: podsInput,
      propagation: LAGS,
    },
  ],
  loadBalancers: [{ name: 'alb', type: 'application', listeners: [{ port: 0, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
};

// The same target group, as the Ingress annotations a user would write on EKS.
const ingressAnnotations = {
  'alb.ingress.kubernetes.io/target-type': 'ip',
  'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8081}]',
  'alb.ingress.kubernetes.io/healthcheck-path': '/ready',
  'alb.ingress.kubernetes.io/healthcheck-interval-seconds': '5',
  'alb.ingress.kubernetes.io/healthcheck-timeout-seconds': '2',
  'alb.ingress.kubernetes.io/healthy-threshold-count': '2',
  'alb.ingress.kubernetes.io/unhealthy-threshold-count': '2',
  'alb.ingress.kubernetes.io/success-codes': '200-399',
  'alb.ingress.kubernetes.io/target-group-attributes': `deregistration_delay.timeout_seconds=${DEREGISTRATION_DELAY_SECONDS}`,
};

interface LogLine {
  readonly event: string;
  readonly target: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason?: string;
  readonly result?: string;
  readonly time: number;
}

/** A logger that keeps the target group's events (`target.registered`, `target.state_changed`, …). */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as Partial<LogLine>;
        if (typeof entry.event === 'string' && entry.event.startsWith('target.') && typeof entry.target === 'string') lines.push(entry as LogLine);
      },
    },
  );
  return { logger, lines };
}

interface RunResult {
  /** Each pod (`r<revision>/<n>`: the n-th pod of that revision) → its target events in order. */
  readonly perPod: Record<string, string[]>;
  /** Each event → the pods it happened to, in order. */
  readonly perEvent: Record<string, string[]>;
  /** Per pod: containers ready → registered, and deletion → draining (ms): the lags at work. */
  readonly lags: Record<string, { registeredAfterMs: number; drainingAfterMs?: number }>;
  readonly report: LoadReport;
}

/** Names each target by the pod behind it (`r1/1`), as pod names are random. */
function normalise(lines: readonly LogLine[], timeline: readonly TimelineEvent[]): Omit<RunResult, 'report'> {
  const identity = new Map<string, string>();
  const perRevision = new Map<string, number>();
  for (const e of timeline) {
    if (e.kind !== 'pod.created') continue;
    const [address, , revision] = e.detail!.split(' ');
    const n = (perRevision.get(revision!) ?? 0) + 1;
    perRevision.set(revision!, n);
    identity.set(address!, `r${revision}/${n}`);
  }
  const perPod: Record<string, string[]> = {};
  const perEvent: Record<string, string[]> = {};
  const podNames = new Map(timeline.filter((e) => e.kind === 'pod.created').map((e) => [e.pod!, identity.get(e.detail!.split(' ')[0]!)!]));
  const at = (kind: TimelineEvent['kind']) => new Map(timeline.filter((e) => e.kind === kind).map((e) => [podNames.get(e.pod!)!, e.timeMs]));
  const containersReady = at('pod.containers_ready');
  const deleting = at('pod.deleting');
  const lags: RunResult['lags'] = {};
  for (const line of lines) {
    const pod = identity.get(line.target) ?? `unknown ${line.target}`;
    const what =
      line.event === 'target.state_changed'
        ? `${line.from} -> ${line.to}${line.reason ? ` (${line.reason})` : ''}`
        : line.event === 'target.deregistered'
          ? `deregistered (${line.result})`
          : line.event.slice('target.'.length);
    (perPod[pod] ??= []).push(what);
    (perEvent[what] ??= []).push(pod);
    if (what === 'registered') lags[pod] = { registeredAfterMs: line.time - containersReady.get(pod)! };
    if (what === 'draining') lags[pod] = { ...lags[pod]!, drainingAfterMs: line.time - deleting.get(pod)! };
  }
  return { perPod, perEvent, lags };
}

/** Two healthy targets and nothing draining: the rollout is over for the load balancer too. */
function settled(group: TargetGroup): boolean {
  const targets = group.describeTargetHealth();
  return targets.length === 2 && targets.every((t) => t.targetHealth.state === 'healthy');
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startLocalRun() {
  const { logger, lines } = capturingLogger();
  const elb = await startLocalElb({ config: localConfig, logger, podOutput: () => {} });
  cleanups.push(() => elb.close());
  return {
    podOctet: Number(elb.pods('web')[0]!.ip.split('.')[1]),
    async finish(): Promise<RunResult> {
      const load = startLoad(elb.url('alb'), { rps: 50, elb });
      await elb.rollout('web');
      await waitFor(() => settled(elb.targetGroup('web')), { timeoutMs: 60_000, what: 'the local rollout to settle' });
      const report = await load.stop();
      return { ...normalise(lines, elb.timeline.events()), report };
    },
  };
}

async function kindRun(avoidOctet: number): Promise<RunResult> {
  const podOctet = testOctet([avoidOctet]);
  const lbOctet = testOctet([avoidOctet, podOctet]);
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  api.create(namespace('shop', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }));
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(albClass);
  api.create(lbService('web', { namespace: 'shop', type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: POD_PORT }] }));
  api.create(ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], { namespace: 'shop', annotations: ingressAnnotations }));

  const { logger, lines } = capturingLogger();
  const controller = testController(api, {
    logger,
    addressPrefix: `127.${lbOctet}`,
    propagation: { registrationDelayMs: LAGS.registrationDelaySeconds * 1000, deregistrationLagMs: LAGS.deregistrationLagSeconds * 1000 },
  });
  cleanups.push(() => controller.stop());

  const timeline = new Timeline(realClock);
  const deployment = new Deployment({
    name: 'web',
    spec: parseConfig(localConfig).targetGroups[0]!.pods!,
    clock: realClock,
    runtime: childProcessRuntime,
    prober: networkProber,
    timeline,
    ips: new PodIpAllocator(podOctet),
    logger: silentLogger(),
    output: () => {},
  });
  cleanups.push(() => deployment.close(0));
  const kubelet = new FakeKubelet(api, deployment, {
    namespace: 'shop',
    service: 'web',
    node: 'worker',
    port: POD_PORT,
    readinessGate: 'target-health.elbv2.k8s.aws/web',
    endpointsDelayMs: LAGS.endpointsDelaySeconds * 1000,
  });
  cleanups.push(() => kubelet.close());

  await controller.start();
  deployment.start();
  // Ready needs the readiness gate, which needs the target healthy in the controller's ALB.
  await deployment.waitReady(60_000);
  const group = () => [...controller.stacks().values()][0]!.elb.targetGroups()[0]!;
  await waitFor(() => settled(group()), { timeoutMs: 30_000, what: 'both targets healthy in kind' });
  const ip = await waitFor(
    () => (api.get('networking.k8s.io/v1', 'Ingress', 'shop', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip,
    { what: 'the Ingress address' },
  );

  const load = startLoad(`http://${ip}:8081/`, { rps: 50 });
  await deployment.rollout();
  await waitFor(() => settled(group()), { timeoutMs: 60_000, what: 'the kind rollout to settle' });
  const report = await load.stop();
  return { ...normalise(lines, timeline.events()), report };
}

describe('one control path for local pods and kind', () => {
  it('a rollout logs the same target-state events with local pods and through the fake API server', async () => {
    const local = await startLocalRun();
    const [viaPods, viaKind] = await Promise.all([local.finish(), kindRun(local.podOctet)]);

    // What a rollout of two pods is (and not, say, nothing at all on both sides).
    const started = ['registered', 'initial -> initial (Elb.InitialHealthChecking)', 'initial -> healthy'];
    const rolledOut = [...started, 'draining', 'deregistered (drained)'];
    expect(viaPods.perPod).toEqual({
      'r1/1': rolledOut,
      'r1/2': rolledOut,
      'r2/1': started,
      'r2/2': started,
    });
    expect(viaKind.perPod).toEqual(viaPods.perPod);
    // The order of pods through each state is the rollout's: each new pod is created once the
    // one before is Ready, each old one deleted then. The two first pods start together, so
    // which of them is registered or healthy first is a race on both paths, not part of it.
    const ordered = (run: RunResult) =>
      Object.fromEntries(Object.entries(run.perEvent).map(([what, pods]) => [what, started.includes(what) ? pods.filter((p) => !p.startsWith('r1/')) : pods]));
    expect(ordered(viaKind)).toEqual(ordered(viaPods));

    // Both waited out the same lags: the registration delay after the containers are ready (a
    // gated pod counts from its Pod object, not its EndpointSlice entry), the EndpointSlice and
    // the deregistration lag after deletion (log times are whole ms).
    for (const run of [viaPods, viaKind]) {
      for (const [pod, lag] of Object.entries(run.lags)) {
        expect(lag.registeredAfterMs, pod).toBeGreaterThanOrEqual(LAGS.registrationDelaySeconds * 1000 - 1);
        if (pod.startsWith('r1/')) expect(lag.drainingAfterMs, pod).toBeGreaterThanOrEqual((LAGS.endpointsDelaySeconds + LAGS.deregistrationLagSeconds) * 1000 - 1);
      }
    }

    // And the harness's promise holds on both paths.
    for (const run of [viaPods, viaKind]) {
      expect(run.report.total).toBeGreaterThan(100);
      expect(run.report.failed).toEqual([]);
    }
  });
});
