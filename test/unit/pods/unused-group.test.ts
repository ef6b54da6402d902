/**
 * A target group no listener uses, as AWS treats it (spec 1.3): not health-checked, its targets
 * `unused`/`Target.NotInUse`. The config says so as a warning (not an error: AWS allows it);
 * with local pods, start() waits for the pods' own readiness only, instead of for health checks
 * that never run (issue 17: the README's pods example hung `serve` for 75 s). Virtual clock,
 * fake pod runtime, scripted probes; no sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { isElbError } from '../../../src/core/errors.ts';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';
import { configWarnings } from '../../../src/config/warnings.ts';
import { startLocalElb, type LocalElb } from '../../../src/local-elb.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { FakeRuntime, ScriptedProber } from '../../support/fake-runtime.ts';

const S = 1000;
const opened: LocalElb[] = [];
afterEach(async () => {
  for (const elb of opened.splice(0)) await elb.close();
});

const podsGroup = (readinessGate = false) => ({
  name: 'web',
  protocol: 'HTTP' as const,
  port: 80,
  pods: { command: ['app'], replicas: 2, readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 1 }, readinessGate },
  propagation: { endpointsDelaySeconds: 1 },
});
const listener = (targetGroupName: string) => ({ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward' as const, targetGroupName }] }] });

describe('configWarnings', () => {
  it.each<[string, ConfigInput, string[]]>([
    ['no warning when a listener forwards to every group', { targetGroups: [{ name: 'web', protocol: 'HTTP' }], loadBalancers: [listener('web')] }, []],
    [
      'a warning for a group without any load balancer',
      { targetGroups: [{ name: 'web', protocol: 'HTTP' }] },
      ['targetGroups[0]: no listener forwards to target group "web", so, as on AWS, it is not health-checked and its targets show unused (Target.NotInUse); add a listener under loadBalancers: whose forward action names it'],
    ],
    [
      'a warning that says the pods still start',
      { targetGroups: [podsGroup()] },
      ['targetGroups[0]: no listener forwards to target group "web", so, as on AWS, it is not health-checked and its targets show unused (Target.NotInUse); its pods still start and run their probes; add a listener under loadBalancers: whose forward action names it'],
    ],
    [
      'no warning for a group used only by a rule',
      {
        targetGroups: [{ name: 'web', protocol: 'HTTP' }, { name: 'api', protocol: 'HTTP' }],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/api/*'] }], actions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'api' }] } }] }] }] }],
      },
      [],
    ],
  ])('%s', (_what, input, expected) => {
    expect(configWarnings(parseConfig(input, 'test')).map((w) => `${w.path}: ${w.message}`)).toEqual(expected);
  });

  it('refuses a readiness gate on a group no listener uses: its pods could never be Ready', () => {
    let err: unknown;
    try {
      parseConfig({ targetGroups: [podsGroup(true)] }, 'test');
    } catch (e) {
      err = e;
    }
    expect(isElbError(err, 'ELB_ERR_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('targetGroups[0].pods.readinessGate: needs a listener that forwards to target group "web"');
  });
});

describe('LocalElb with a pods group no listener uses', () => {
  it('starts once the pods are Ready, logs the warning, and shows the targets unused (Target.NotInUse) with no health checks made', async () => {
    const clock = new VirtualClock();
    const runtime = new FakeRuntime(clock);
    const prober = new ScriptedProber(clock);
    let healthChecks = 0;
    const probe: Probe = () => {
      healthChecks++;
      return Promise.resolve({ ok: true, statusCode: 200 });
    };
    const logged: Array<{ level: number; msg: string }> = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const starting = startLocalElb({ config: { targetGroups: [podsGroup()] }, clock, logger, podRuntime: runtime, podProber: prober.prober, probe, waitForPodsMs: 60 * S });
    let elb: LocalElb | undefined;
    void starting.then((e) => opened.push((elb = e)));
    for (let i = 0; i < 100 && elb === undefined; i++) await clock.advance(100);
    expect(elb).toBeDefined();
    expect(clock.now()).toBeLessThanOrEqual(3 * S); // not the 60 s timeout
    await clock.advance(5 * S);
    expect(elb!.pods('web').map((p) => p.ready)).toEqual([true, true]);
    const health = elb!.targetGroup('web').describeTargetHealth();
    expect(health).toHaveLength(2);
    for (const d of health) expect(d.targetHealth).toMatchObject({ state: 'unused', reason: 'Target.NotInUse' });
    expect(healthChecks).toBe(0);
    expect(elb!.warnings.map((w) => w.path)).toEqual(['targetGroups[0]']);
    expect(logged.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([`targetGroups[0]: ${elb!.warnings[0]!.message}`]);
  });
});
