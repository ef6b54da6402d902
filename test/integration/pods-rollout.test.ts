/**
 * The graceful-shutdown harness end to end, with real processes: the example app that exits at
 * once on SIGTERM loses requests in a rollout and the harness says which and why; the app that
 * drains, with a preStop longer than the propagation lag, loses none.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runRolloutScenario } from '../../src/harness/scenario.ts';
import { startLoad } from '../../src/harness/load.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { alive } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

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
    const { report } = await runRolloutScenario({
      command: ['node', app('graceful-server.mjs')],
      replicas: 2,
      rps: 150,
      preStopSeconds: 2,
      propagationSeconds: 1,
      gracePeriodSeconds: 10,
      readinessPath: '/ready',
      settleSeconds: 0.5,
    });
    expect(report.total).toBeGreaterThan(300);
    expect(report.failed).toEqual([]);
    const kinds = report.timeline.map((e) => e.kind);
    expect(kinds).toContain('pod.prestop_finished');
    expect(kinds.indexOf('target.deregister')).toBeLessThan(kinds.lastIndexOf('pod.sigterm'));
  });

  it('cuts slow requests in flight when the app exits at once, even after a preStop', async () => {
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
              command: ['node', app('naive-server.mjs')],
              env: { WORK_MS: '1500' },
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
    const load = startLoad(elb.url('app'), { rps: 20, elb });
    await new Promise((r) => setTimeout(r, 800));
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
