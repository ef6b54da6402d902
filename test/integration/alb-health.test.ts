/**
 * Health checks over real HTTP, seen through the ALB (spec 1.2, 2.4–2.6): failing targets take
 * no traffic while one is healthy, are reported with AWS's reasons and descriptions, and take
 * traffic again when the group fails open. Checks run on the real clock every 5 s, so the whole
 * file shares one setup that waits for the second check (one interval) once.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetHealth } from '../../src/targets/health.ts';
import { startAlb, waitHealthy, type TestAlb } from '../support/alb.ts';
import { refusedPort } from '../support/tcp.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

describe('health checks with unhealthyThresholdCount 2 and a 5 s interval', () => {
  let ok: TestTarget;
  let failing: TestTarget;
  let dead: { port: number; close(): Promise<void> } | undefined;
  let deadPort: number;
  let alb: TestAlb;
  let afterFirstCheck: { ok: TargetHealth; failing: TargetHealth; dead: TargetHealth; bodies: string[] };
  const healthOf = (port: number) => alb.group.describeTargetHealth([{ id: '127.0.0.1', port }])[0]!.targetHealth;
  const get = async () => {
    const res = await request(`${alb.url}/`);
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };

  beforeAll(async () => {
    ok = await startTarget('ok');
    failing = await startTarget('failing');
    failing.healthStatus = 500;
    // Refused for the whole file: a port listened on and closed could be taken meanwhile by any
    // process on the machine, and its checks would then be answered.
    dead = await refusedPort();
    deadPort = dead.port;
    alb = await startAlb({ targetPorts: [ok.port, failing.port, deadPort] });
    await waitHealthy(alb.group, 1);
    await waitFor(() => failing.healthChecks === 1, { what: 'the first check of the failing target' });
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await get()).body);
    afterFirstCheck = { ok: healthOf(ok.port), failing: healthOf(failing.port), dead: healthOf(deadPort), bodies };
    // The second failed check comes one interval after registration.
    await waitFor(() => healthOf(failing.port).state === 'unhealthy' && healthOf(deadPort).state === 'unhealthy', {
      timeoutMs: 8_000,
      what: 'both failing targets to become unhealthy',
    });
  }, 15_000);

  afterAll(async () => {
    await alb?.elb.close();
    await ok?.close();
    await failing?.close();
    await dead?.close();
  });

  it('keeps failing targets initial after one failed check (below the threshold), and routes only to the healthy one', () => {
    expect(afterFirstCheck.ok).toEqual({ state: 'healthy' });
    expect(afterFirstCheck.failing).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
    expect(afterFirstCheck.dead).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
    expect(afterFirstCheck.bodies).toEqual(Array(6).fill('ok'));
  });

  it('reports a health path answering 500 as unhealthy, Target.ResponseCodeMismatch, with the code in the description', () => {
    expect(healthOf(failing.port)).toEqual({
      state: 'unhealthy',
      reason: 'Target.ResponseCodeMismatch',
      description: 'Health checks failed with these codes: [500]',
    });
  });

  it('reports a refused health check connection as unhealthy, Target.FailedHealthChecks', () => {
    expect(healthOf(deadPort)).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
  });

  it('sends no traffic to unhealthy targets while one target is healthy', async () => {
    expect(healthOf(ok.port)).toEqual({ state: 'healthy' });
    expect(alb.group.failingOpen).toBe(false);
    for (let i = 0; i < 6; i++) expect(await get()).toMatchObject({ status: 200, body: 'ok' });
    expect(failing.seen).toHaveLength(0);
  });

  it('fails open below minimum_healthy_targets.count 2: every registered target takes traffic, and the dead one answers 502', async () => {
    alb.group.modifyAttributes({ 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '2' });
    try {
      expect(alb.group.failingOpen).toBe(true);
      const responses = [];
      for (let i = 0; i < 6; i++) responses.push(await get());
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 502, 502]);
      expect(responses.filter((r) => r.status === 200).map((r) => r.body).sort()).toEqual(['failing', 'failing', 'ok', 'ok']);
      const page = responses.find((r) => r.status === 502)!;
      expect(page.headers.server).toBe('awselb/2.0');
      expect(page.body).toContain('<title>502 Bad Gateway</title>');
    } finally {
      alb.group.modifyAttributes({ 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1' });
    }
  });
});
