/**
 * The graceful-shutdown harness end to end, with real processes: the example app that exits at
 * once on SIGTERM loses requests in a rollout and the harness says which and why; the app that
 * drains, with a preStop longer than the propagation lag, loses none.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runRolloutScenario } from '../../src/harness/scenario.ts';
import { startLoad } from '../../src/harness/load.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { deferCleanups } from '../support/alb.ts';
import { alive } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();
const app = (name: string) => fileURLToPath(new URL(`../../examples/apps/${name}`, import.meta.url));

describe('rollout under load with local pods', () => {
  const opened: LocalElb[] = [];
  afterEach(async () => {
    for (const elb of opened.splice(0)) await elb.close();
  });

  it('catches the failures of an app that exits at once on SIGTERM, with who made each one', async () => {
    const { report } = await runRolloutScenario({
      command: ['node', app('naive-server.mjs')],
      replicas: 2,
      rps: 150,
      preStopSeconds: 0,
      propagationSeconds: 1,
      gracePeriodSeconds: 10,
      readinessPath: '/ready',
      settleSeconds: 0.5,
    });
    expect(report.total).toBeGreaterThan(100);
    expect(report.failed.length).toBeGreaterThan(0);
    for (const f of report.failed) {
      expect(f.status).toBe(502);
      expect(f.producedBy).toBe('elb');
      expect(f.pod).toMatch(/^app-r1-/);
      expect(['Terminating', 'Terminated']).toContain(f.podPhase);
    }
    const firstSigterm = report.timeline.find((e) => e.kind === 'pod.sigterm');
    expect(firstSigterm).toBeDefined();
    expect(Math.min(...report.failed.map((f) => f.endMs))).toBeGreaterThanOrEqual(firstSigterm!.timeMs);
    expect(report.format()).toMatch(/✗ request #\d+ 502 from the ELB/);
  });

  it('loses no request when the app drains and preStop outlasts the propagation lag', async () => {
    // The preStop hook lasts until the load balancer has stopped sending to its pod: it waits
    // for a file that the test writes when the pod's target turns draining. So "preStop outlasts
    // the 1 s propagation lag" holds by construction, however slowly a busy machine runs,
    // instead of by a 1 s margin of real time (a 2 s sleep against a 1 s lag).
    const markers = await mkdtemp(join(tmpdir(), 'local-elb-prestop-'));
    defer(() => rm(markers, { recursive: true, force: true }));
    const elb = await startLocalElb({
      podOutput: () => {},
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            healthCheckPath: '/ready',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            attributes: { 'deregistration_delay.timeout_seconds': '30' },
            pods: {
              command: ['node', app('graceful-server.mjs')],
              env: { MARKERS: markers },
              replicas: 2,
              readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 0.2, failureThreshold: 1 },
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'while [ ! -e "$MARKERS/$POD_NAME" ]; do sleep 0.05; done'] } } },
              terminationGracePeriodSeconds: 120,
              strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            },
            propagation: { endpointsDelaySeconds: 1 },
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    opened.push(elb);
    const released: string[] = [];
    const unsubscribe = elb.timeline.on((e) => {
      if (e.kind === 'target.state_changed' && e.pod !== undefined && / -> draining /.test(e.detail ?? '')) {
        writeFileSync(join(markers, e.pod), '');
        released.push(e.pod);
      }
    });
    defer(unsubscribe);
    const load = startLoad(elb.url('app'), { rps: 150, elb });
    await waitFor(() => load.sent >= 50, { what: 'the load to be under way' });
    await elb.rollout('web');
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 2, { what: 'both new pods to be healthy' });
    const report = await load.stop();
    expect(report.total).toBeGreaterThan(100);
    expect(report.failed).toEqual([]);
    expect(released.sort()).toEqual(report.timeline.filter((e) => e.kind === 'pod.prestop_started').map((e) => e.pod!).sort());
    expect(released).toHaveLength(2);
    for (const pod of released) {
      const at = (kind: string) => report.timeline.find((e) => e.kind === kind && e.pod === pod)?.timeMs ?? NaN;
      expect(at('target.deregister')).toBeLessThanOrEqual(at('pod.prestop_finished'));
      expect(at('pod.prestop_finished')).toBeLessThanOrEqual(at('pod.sigterm'));
    }
  });

  it('cuts slow requests in flight when the app exits at once, even after a preStop', async () => {
    // Revision 1's pod holds every request for 10 minutes (WORK_MS), so every request it took is
    // still in flight when SIGTERM comes after the 0.5 s preStop: the cut does not depend on a
    // request landing within the last 1.5 s of real time. Later revisions answer in 20 ms.
    const command = ['sh', '-c', `case "$POD_NAME" in *-r1-*) export WORK_MS=600000 ;; esac; exec node '${app('naive-server.mjs')}'`];
    const elb = await startLocalElb({
      podOutput: () => {},
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            healthCheckPath: '/ready',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            attributes: { 'deregistration_delay.timeout_seconds': '30' },
            pods: {
              command,
              replicas: 1,
              readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 0.2, failureThreshold: 1 },
              lifecycle: { preStop: { sleep: { seconds: 0.5 } } },
              terminationGracePeriodSeconds: 10,
              strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            },
            propagation: { endpointsDelaySeconds: 0.1 },
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    opened.push(elb);
    const pids = elb.pods('web').map((p) => p.pid!);
    const oldTarget = `${elb.pods('web')[0]!.ip}:${elb.pods('web')[0]!.port}`;
    const load = startLoad(elb.url('app'), { rps: 20, elb, timeoutMs: 60_000 });
    const inFlightOnOld = () => elb.targetGroup('web').targets().find((t) => t.key === oldTarget)?.outstanding ?? 0;
    await waitFor(() => inFlightOnOld() >= 3, { what: 'requests in flight on the old pod' });
    await elb.rollout('web');
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'the new pod to be healthy' });
    const report = await load.stop();
    // The slow requests the old pod was serving when it exited are cut: 502 from the ELB. (With
    // one replica, a request can also meet the instant between the old target's deregistration
    // and the new one's first health check: 503 from the ELB, which is not what this test is about.)
    const cut = report.failed.filter((f) => f.status === 502 && f.producedBy === 'elb');
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((f) => f.pod?.startsWith('web-r1-') && ['Terminating', 'Terminated'].includes(f.podPhase ?? ''))).toBe(true);
    expect(report.failed.every((f) => f.producedBy === 'elb' && (f.status === 502 || f.status === 503))).toBe(true);
    expect(pids.every((pid) => !alive(pid))).toBe(true);
  });

  it('leaves no pod process behind after close', async () => {
    const elb = await startLocalElb({
      podOutput: () => {},
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            healthCheckPath: '/ready',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            pods: { command: ['node', app('graceful-server.mjs')], replicas: 3, readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 0.2 } },
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    const pids = elb.pods('web').map((p) => p.pid!);
    expect(pids).toHaveLength(3);
    expect(new Set(elb.pods('web').map((p) => p.ip)).size).toBe(3);
    await elb.close();
    await waitFor(() => pids.every((pid) => !alive(pid)), { what: 'pod processes to exit' });
  });
});
