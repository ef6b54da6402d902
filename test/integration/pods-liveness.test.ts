/**
 * A local pod's liveness probe against a real process (README "Local pods": "a failed liveness
 * probe kills and restarts it"): the app answers its liveness path 500 once the test marks its
 * PID, the probe fails, the process is killed, and a new process (a new PID, one more restart)
 * takes its place and passes; readiness and the target follow. Real processes on the real
 * clock, polled with deadlines.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalElb } from '../../src/local-elb.ts';
import { deferCleanups } from '../support/alb.ts';
import { alive } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

/** Answers /ready and /healthz 200, and /healthz 500 once a file named after its own PID exists in $MARKS. */
const APP = `
const http = require('node:http');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
http.createServer((req, res) => {
  if (req.url === '/healthz' && existsSync(join(process.env.MARKS, String(process.pid)))) { res.statusCode = 500; return res.end('sick'); }
  res.end(process.env.POD_NAME);
}).listen(Number(process.env.PORT), process.env.HOST);
`;

describe('liveness probes against a real process', () => {
  it('kills a pod process whose liveness probe fails and starts a new one, which passes and serves again', async () => {
    const marks = await mkdtemp(join(tmpdir(), 'local-elb-liveness-'));
    defer(() => rm(marks, { recursive: true, force: true }));
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
            pods: {
              command: ['node', '-e', APP],
              env: { MARKS: marks },
              replicas: 1,
              readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 0.2, failureThreshold: 1 },
              // Ten failures in a row (2 s) before a kill: a process slow to start on a busy machine
              // is not killed for the refused probes of its first second.
              livenessProbe: { httpGet: { path: '/healthz' }, periodSeconds: 0.2, failureThreshold: 10 },
            },
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    defer(() => elb.close());
    const before = await waitFor(() => elb.pods('web').find((p) => p.ready && p.pid !== undefined), { what: 'the pod ready' });
    const firstPid = before.pid!;
    const restartsBefore = before.restartCount;
    expect(alive(firstPid)).toBe(true);

    writeFileSync(join(marks, String(firstPid)), '');
    await waitFor(() => !alive(firstPid), { what: `process ${firstPid} to be killed for failing its liveness probe` });
    const restarted = await waitFor(
      () => {
        const [pod] = elb.pods('web');
        return pod !== undefined && pod.pid !== undefined && pod.pid !== firstPid && pod.ready ? pod : undefined;
      },
      { timeoutMs: 15_000, what: 'a new process for the pod, ready again' },
    );
    // The same pod (not a replacement), one restart, a new process that passes its probes.
    expect(restarted.name).toBe(before.name);
    expect(restarted.restartCount).toBeGreaterThan(restartsBefore);
    expect(alive(restarted.pid!)).toBe(true);
    const kinds = elb.timeline.events().filter((e) => e.pod === before.name).map((e) => e.kind);
    expect(kinds).toContain('pod.exited');
    expect(kinds).toContain('pod.restarted');
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'the target healthy again' });
    const res = await fetch(`${elb.url('app')}/`);
    expect(await res.text()).toBe(before.name);
  });
});
