import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../../src/lab/scenario.ts';
import { scenarioActions } from '../../../src/lab/schedule.ts';
import { resolveTargetModels } from '../../../src/lab/target-model.ts';

describe('scenarioActions: what happens when, for the simulator and the real run alike', () => {
  const s = parseScenario({
    name: 'x',
    clients: { ratePerSecond: 100 },
    targets: { count: 2, service: { distribution: 'exponential', meanMs: 10 }, overrides: [{ targets: [1], registerAtSeconds: 5 }] },
    events: [{ atSeconds: 8, action: 'fail-health-checks', targets: [0] }],
    churn: { kind: 'rolling-restart', startSeconds: 10, everySeconds: 30, stopAfterSeconds: 2, downSeconds: 3 },
    algorithms: ['round_robin'],
  });

  it('starts and registers a late target, then the events, then one rolling restart per target while clients arrive (until 41 s: at 10 s and 40 s)', () => {
    const actions = scenarioActions(s, resolveTargetModels(s, 42), 41_000).map((a) => [a.atMs, a.action, a.targets.join(','), a.source]);
    expect(actions).toEqual([
      [5000, 'start', '1', 'registerAtSeconds'],
      [5000, 'register', '1', 'registerAtSeconds'],
      [8000, 'fail-health-checks', '0', 'events[0]'],
      [10_000, 'deregister', '0', 'churn'],
      [12_000, 'stop', '0', 'churn'],
      [15_000, 'start', '0', 'churn'],
      [15_000, 'register', '0', 'churn'],
      [40_000, 'deregister', '1', 'churn'],
      [42_000, 'stop', '1', 'churn'],
      [45_000, 'start', '1', 'churn'],
      [45_000, 'register', '1', 'churn'],
    ]);
  });

  it('has no churn starting at or after the horizon (until 40 s: only the one at 10 s)', () => {
    expect(scenarioActions(s, resolveTargetModels(s, 42), 40_000).filter((a) => a.action === 'deregister').map((a) => a.atMs)).toEqual([10_000]);
  });

  it('crash churn stops and starts without deregistering', () => {
    const crash = { ...s, churn: { ...s.churn!, kind: 'crash' as const } };
    expect(scenarioActions(crash, resolveTargetModels(crash, 42), 20_000).filter((a) => a.source === 'churn').map((a) => a.action)).toEqual(['stop', 'start']);
  });
});
