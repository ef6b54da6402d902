import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/cli/lab.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { builtinScenarioNames, parseScenario, type ScenarioInput } from '../../../src/lab/scenario.ts';

const minimal = (overrides: Partial<Record<keyof ScenarioInput | 'colour', unknown>> = {}) => ({
  name: 'test',
  clients: { ratePerSecond: 100 },
  targets: { count: 3, service: { distribution: 'exponential', meanMs: 10 } },
  algorithms: ['round_robin'],
  ...overrides,
});

function issues(input: unknown): { path: string; message: string }[] {
  try {
    parseScenario(input, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^invalid configuration in test.yaml:/);
    return (err as ConfigError).issues.map((i) => ({ ...i }));
  }
  throw new Error('expected a ConfigError');
}

describe('parseScenario', () => {
  it.each(builtinScenarioNames)('parses the built-in scenario %s', async (name) => {
    const s = await loadScenario(name);
    expect(s.name).toBe(name);
    expect(s.description.length).toBeGreaterThan(10);
    expect(s.variants.length).toBeGreaterThan(1);
  });

  it('fills the defaults: AWS ALB health checks and delay, slow start off, 60 s idle timeout, one node', () => {
    const s = parseScenario(minimal());
    expect(s).toMatchObject({
      requests: 100_000,
      seed: 42,
      targets: { concurrency: 1, overrides: [] },
      loadBalancer: {
        nodes: 1,
        healthCheck: { intervalSeconds: 30, timeoutSeconds: 5, healthyThresholdCount: 5, unhealthyThresholdCount: 2 },
        deregistrationDelaySeconds: 300,
        slowStartSeconds: 0,
        slowStartInitialWeight: 0.05,
        anomalyMitigation: 'off',
        idleTimeoutSeconds: 60,
      },
      events: [],
    });
    expect(s.variants).toEqual([{ label: 'round_robin', algorithm: 'round_robin', slowStartSeconds: 0, anomalyMitigation: 'off', nodes: 1, externalTrafficPolicy: undefined }]);
  });

  it('labels each run by its algorithm and what differs from the scenario', () => {
    const s = parseScenario(
      minimal({
        algorithms: [
          'round_robin',
          { algorithm: 'round_robin', slowStartSeconds: 60 },
          { algorithm: 'weighted_random', anomalyMitigation: 'on' },
          { algorithm: 'least_outstanding_requests', nodes: 4 },
          { algorithm: 'random', label: 'plain random' },
        ],
      }),
    );
    expect(s.variants.map((v) => v.label)).toEqual([
      'round_robin',
      'round_robin slow_start=60s',
      'weighted_random anomaly_mitigation=on',
      'least_outstanding_requests nodes=4',
      'plain random',
    ]);
  });

  it.each([
    ['an unknown key', minimal({ colour: 'red' }), '', /unknown key "colour"; allowed: name, description/],
    ['an unknown algorithm', minimal({ algorithms: ['fastest'] }), 'algorithms[0]', /must be an algorithm \(round_robin \| least_outstanding_requests/],
    ['a negative rate', minimal({ clients: { ratePerSecond: -1 } }), 'clients.ratePerSecond', /must be a number above 0/],
    ['an unknown distribution', minimal({ targets: { count: 3, service: { distribution: 'pareto', meanMs: 1 } } }), 'targets.service.distribution', /exponential/],
    [
      'an override of a target that does not exist',
      minimal({ targets: { count: 3, service: { distribution: 'constant', meanMs: 1 }, overrides: [{ targets: [3], latencyMultiplier: 2 }] } }),
      'targets.overrides[0].targets[0]',
      /target index 0–2 \(targets.count is 3\): got 3/,
    ],
    [
      'a GC pause as long as its cycle',
      minimal({ targets: { count: 3, service: { distribution: 'constant', meanMs: 1 }, overrides: [{ targets: [0], gcPause: { everyMs: 100, pauseMs: 100 } }] } }),
      'targets.overrides[0].gcPause.pauseMs',
      /less than everyMs/,
    ],
    ['slow start with least outstanding requests', minimal({ algorithms: [{ algorithm: 'least_outstanding_requests', slowStartSeconds: 30 }] }), 'algorithms[0].slowStartSeconds', /round_robin only/],
    ['slow start out of AWS range', minimal({ loadBalancer: { slowStartSeconds: 10 } }), 'loadBalancer.slowStartSeconds', /0 or an integer 30–900/],
    ['anomaly mitigation with round robin', minimal({ algorithms: [{ algorithm: 'round_robin', anomalyMitigation: 'on' }] }), 'algorithms[0].anomalyMitigation', /only with weighted_random/],
    ['two runs with one label', minimal({ algorithms: ['random', { algorithm: 'random' }] }), 'algorithms[1].label', /"random" is used twice/],
    ['pods that do not add up', minimal({ kubernetes: { podsPerNode: [1, 1] } }), 'kubernetes.podsPerNode', /add up to targets.count \(3\).*got 2/],
    ['a traffic policy without kubernetes', minimal({ algorithms: [{ algorithm: 'round_robin', externalTrafficPolicy: 'Local' }] }), 'algorithms[0].externalTrafficPolicy', /only with kubernetes/],
    ['a health check timeout not below the interval', minimal({ loadBalancer: { healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } } }), 'loadBalancer.healthCheck.timeoutSeconds', /less than intervalSeconds \(5\)/],
    ['an event on a missing target', minimal({ events: [{ atSeconds: 1, action: 'stop', targets: [9] }] }), 'events[0].targets[0]', /got 9/],
    ['an unknown event action', minimal({ events: [{ atSeconds: 1, action: 'explode', targets: [0] }] }), 'events[0].action', /deregister \| register \| stop \| start/],
    ['a bad automatic target weights setting', minimal({ loadBalancer: { automaticTargetWeights: { reductionFactor: 2 } } }), 'loadBalancer.automaticTargetWeights.reductionFactor', /0–1/],
  ])('rejects %s, naming the field', (_what, input, path, message) => {
    const found = issues(input);
    expect(found.map((i) => i.path)).toContain(path);
    expect(found.find((i) => i.path === path)!.message).toMatch(message);
  });

  it('lists every problem at once', () => {
    const found = issues(minimal({ clients: { ratePerSecond: 0 }, targets: { count: 0, service: { distribution: 'constant', meanMs: 0 } } }));
    expect(found.map((i) => i.path).sort()).toEqual(['clients.ratePerSecond', 'targets.count', 'targets.service.meanMs']);
  });
});

describe('loadScenario (CLI)', () => {
  it('names the file and the line of a YAML error', async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'lab-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'name: bad\nclients: [\n');
    await expect(loadScenario(file)).rejects.toThrow(new RegExp(`invalid configuration in ${file}:\\n  line \\d+, column \\d+:`));
  });

  it('says which built-in scenarios exist when a file is missing', async () => {
    await expect(loadScenario('no-such-scenario')).rejects.toThrow(/cannot read the scenario: ENOENT; built-in scenarios: homogeneous, slow-target/);
  });
});
