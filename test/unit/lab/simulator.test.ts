import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/cli/lab.ts';
import { runLab, selectVariants } from '../../../src/lab/lab.ts';
import { parseScenario, type ScenarioInput } from '../../../src/lab/scenario.ts';
import { runSimulation, type RunResult } from '../../../src/lab/simulator.ts';

function simulate(input: Partial<Record<keyof ScenarioInput, unknown>>, requests = 40_000): RunResult[] {
  const scenario = parseScenario({ name: 'test', algorithms: ['round_robin'], ...input });
  return scenario.variants.map((v) => runSimulation(scenario, v, { requests }));
}

const share = (r: RunResult, name: string) => r.targets.find((t) => t.name === name)!.share;

describe('queueing at a target is honest: textbook results come out of the event loop', () => {
  it('M/M/1 at 50% load: mean latency 1/(μ − λ) = 20 ms', () => {
    const [r] = simulate({ clients: { ratePerSecond: 50 }, targets: { count: 1, concurrency: 1, service: { distribution: 'exponential', meanMs: 10 } } }, 200_000);
    expect(r!.latencyMs.mean).toBeGreaterThan(19);
    expect(r!.latencyMs.mean).toBeLessThan(21);
    // the sojourn time of M/M/1 is exponential with mean 20 ms: p90 = 20 ln 10 ≈ 46 ms
    expect(r!.latencyMs.p90).toBeGreaterThan(43);
    expect(r!.latencyMs.p90).toBeLessThan(49);
  });

  it('M/D/1 at 50% load: mean latency 1/μ + ρ/(2μ(1 − ρ)) = 15 ms', () => {
    const [r] = simulate({ clients: { ratePerSecond: 50 }, targets: { count: 1, concurrency: 1, service: { distribution: 'constant', meanMs: 10 } } }, 200_000);
    expect(r!.latencyMs.mean).toBeGreaterThan(14.5);
    expect(r!.latencyMs.mean).toBeLessThan(15.5);
    expect(r!.latencyMs.p50).toBeGreaterThanOrEqual(10);
  });

  it('a lognormal service model keeps its mean', () => {
    const [r] = simulate({ clients: { ratePerSecond: 10 }, targets: { count: 1, concurrency: 1000, service: { distribution: 'lognormal', meanMs: 10, sigma: 1 } } }, 100_000);
    expect(r!.latencyMs.mean).toBeGreaterThan(9.7);
    expect(r!.latencyMs.mean).toBeLessThan(10.3);
  });

  it('an overloaded target times requests out at the idle timeout (504) and keeps working on them', () => {
    const [r] = simulate(
      { clients: { ratePerSecond: 200 }, targets: { count: 1, concurrency: 1, service: { distribution: 'constant', meanMs: 10 } }, loadBalancer: { idleTimeoutSeconds: 1 } },
      2_000,
    );
    expect(r!.errorsByKind.timeout).toBeGreaterThan(500);
    expect(r!.latencyMs.max).toBeCloseTo(1_000, 6);
    expect(r!.errors).toBe(r!.errorsByKind.timeout);
  });
});

describe('slow start on a cold target (spec 3.2)', () => {
  it('keeps the cold target from queueing up, where plain round robin buries it', async () => {
    const report = runLab(await loadScenario('cold-target'), { requests: 150_000, only: ['round_robin', 'round_robin slow_start=240s'] });
    const [plain, slow] = report.runs.map((r) => r.result);
    const t9 = (r: RunResult) => r.targets.find((t) => t.name === 't9')!;
    expect(t9(plain!).peakInFlight).toBeGreaterThan(1000);
    expect(t9(slow!).peakInFlight).toBeLessThan(20);
    expect(slow!.latencyMs.p99 * 10).toBeLessThan(plain!.latencyMs.p99);
    expect(share(slow!, 't9')).toBeLessThan(share(plain!, 't9'));
  });
});

describe('the EKS double hop (spec 10.3)', () => {
  it('spreads requests evenly over the pods with Cluster, and by node with Local (1/1/4: a third, a third, a twelfth each)', async () => {
    const report = runLab(await loadScenario('double-hop'), { requests: 30_000, only: ['round_robin Cluster', 'round_robin Local'] });
    const [cluster, local] = report.runs.map((r) => r.result);
    for (const t of cluster!.targets) expect(t.share).toBeCloseTo(1 / 6, 1);
    expect(local!.targets.map((t) => Math.round(t.share * 12))).toEqual([4, 4, 1, 1, 1, 1]);
    expect(cluster!.targets.map((t) => t.name)).toEqual(['node-0/pod-0', 'node-1/pod-0', 'node-2/pod-0', 'node-2/pod-1', 'node-2/pod-2', 'node-2/pod-3']);
  });

  it('adds the extra hop to requests kube-proxy sends to another node (Cluster), never with Local', () => {
    const input = {
      clients: { ratePerSecond: 10 },
      targets: { count: 2, concurrency: 100, service: { distribution: 'constant', meanMs: 10 } },
      kubernetes: { podsPerNode: [1, 1], hopLatencyMs: 5 },
      algorithms: [
        { algorithm: 'round_robin', externalTrafficPolicy: 'Cluster' },
        { algorithm: 'round_robin', externalTrafficPolicy: 'Local' },
      ],
    };
    const [cluster, local] = simulate(input, 4_000);
    expect(cluster!.latencyMs.max).toBeCloseTo(15, 6);
    expect(cluster!.latencyMs.mean).toBeGreaterThan(12);
    expect(local!.latencyMs.max).toBeCloseTo(10, 6);
  });

  it('drops requests at a node with no local pod under Local, until its health check (no local endpoint: 503) takes it out', () => {
    const [local] = simulate(
      {
        clients: { ratePerSecond: 100 },
        targets: { count: 2, concurrency: 10, service: { distribution: 'constant', meanMs: 10 } },
        kubernetes: { podsPerNode: [2, 0], externalTrafficPolicy: 'Local' },
      },
      2_000,
    );
    // The node without pods fails its first check and never takes traffic.
    expect(local!.errors).toBe(0);
    expect(local!.targets.every((t) => t.share > 0.4)).toBe(true);
  });
});

describe('churn: health checks and the deregistration delay in the loop', () => {
  it('loses nothing to a rolling restart whose process stops after the delay', () => {
    const [r] = simulate(
      {
        clients: { ratePerSecond: 500 },
        targets: { count: 5, concurrency: 4, service: { distribution: 'exponential', meanMs: 10 } },
        loadBalancer: { deregistrationDelaySeconds: 5, healthCheck: { intervalSeconds: 5, timeoutSeconds: 2, healthyThresholdCount: 2, unhealthyThresholdCount: 2 } },
        churn: { everySeconds: 10, stopAfterSeconds: 6, downSeconds: 2 },
      },
      30_000,
    );
    expect(r!.errors).toBe(0);
  });

  it('cuts the requests still running when the delay ends (502), and resets those in a process that stops first', () => {
    const [cut] = simulate(
      {
        clients: { ratePerSecond: 50 },
        targets: { count: 2, concurrency: 100, service: { distribution: 'constant', meanMs: 3_000 } },
        loadBalancer: { deregistrationDelaySeconds: 1 },
        events: [{ atSeconds: 10, action: 'deregister', targets: [0] }],
      },
      1_000,
    );
    expect(cut!.errorsByKind.cut).toBeGreaterThan(40);
    const [reset] = simulate(
      {
        clients: { ratePerSecond: 50 },
        targets: { count: 2, concurrency: 100, service: { distribution: 'constant', meanMs: 3_000 } },
        loadBalancer: { deregistrationDelaySeconds: 30 },
        events: [
          { atSeconds: 10, action: 'deregister', targets: [0] },
          { atSeconds: 11, action: 'stop', targets: [0] },
        ],
      },
      1_000,
    );
    expect(reset!.errorsByKind.reset).toBeGreaterThan(40);
    expect(reset!.errorsByKind.cut).toBe(0);
  });

  it('refuses requests to a crashed target until its health checks fail, and least outstanding requests sends it more of them', async () => {
    const report = runLab(await loadScenario('churn'), { requests: 300_000, only: ['round_robin', 'least_outstanding_requests'] });
    const [rr, lor] = report.runs.map((r) => r.result);
    expect(rr!.errorsByKind.refused).toBeGreaterThan(0);
    expect(lor!.errorsByKind.refused).toBeGreaterThan(2 * rr!.errorsByKind.refused);
  });

  it('answers 503 when no target is registered', () => {
    const [r] = simulate(
      { clients: { ratePerSecond: 100 }, targets: { count: 1, service: { distribution: 'constant', meanMs: 1 } }, events: [{ atSeconds: 5, action: 'deregister', targets: [0] }], loadBalancer: { deregistrationDelaySeconds: 0 } },
      1_000,
    );
    expect(r!.errorsByKind.no_target).toBeGreaterThan(400);
  });
});

describe('herding: several load balancer nodes with their own counters', () => {
  it('makes least outstanding requests pile more requests onto a target than one node does', async () => {
    const report = runLab(await loadScenario('herding'), { requests: 60_000, only: ['least_outstanding_requests', 'least_outstanding_requests nodes=8'] });
    const [one, eight] = report.runs.map((r) => r.result);
    const peak = (r: RunResult) => Math.max(...r.targets.map((t) => t.peakInFlight));
    expect(peak(eight!)).toBeGreaterThan(peak(one!));
    expect(eight!.latencyMs.p50).toBeGreaterThan(one!.latencyMs.p50);
  });
});

describe('GC pauses', () => {
  it('stall the requests a paused target holds, which lengthens the tail', () => {
    const base = { clients: { ratePerSecond: 1000 }, algorithms: ['round_robin'] };
    const service = { distribution: 'constant', meanMs: 5 };
    const [calm] = simulate({ ...base, targets: { count: 4, concurrency: 4, service } }, 20_000);
    const [paused] = simulate({ ...base, targets: { count: 4, concurrency: 4, service, overrides: [{ targets: [0, 1, 2, 3], gcPause: { everyMs: 1000, pauseMs: 100 } }] } }, 20_000);
    expect(calm!.latencyMs.p99).toBeLessThan(10);
    expect(paused!.latencyMs.p99).toBeGreaterThan(50);
  });
});

describe('selectVariants', () => {
  it('selects by label, or every run of an algorithm that labels none, and names the runs when asked for one that is not there', async () => {
    const s = await loadScenario('cold-target');
    expect(selectVariants(s, ['round_robin']).map((v) => v.label)).toEqual(['round_robin']);
    expect(selectVariants(s, ['round_robin slow_start=120s', 'power_of_two_choices']).map((v) => v.label)).toEqual(['round_robin slow_start=120s', 'power_of_two_choices']);
    const nodes = parseScenario({
      name: 'nodes',
      clients: { ratePerSecond: 1 },
      targets: { count: 1, service: { distribution: 'constant', meanMs: 1 } },
      algorithms: [{ algorithm: 'random', nodes: 2 }, { algorithm: 'random', nodes: 4 }, 'round_robin'],
    });
    expect(selectVariants(nodes, ['random']).map((v) => v.label)).toEqual(['random nodes=2', 'random nodes=4']);
    expect(() => selectVariants(s, ['fastest'])).toThrow(/no run named "fastest"; its runs: round_robin, round_robin slow_start=120s/);
  });
});
