/**
 * local-elb itself in a process of its own, for a real lab run: the ALBs of one config (one
 * per load balancer node of the scenario, each with its own target group, counters and health
 * checks), started with `startLocalElb` as `local-elb serve` does, each group with the run's
 * picker seeded as the simulator seeds it (so the lab-only pickers run in the proxy too). The parent registers and
 * deregisters targets at the scenario's times; every request record is kept by the request
 * index in its trace id, so the run knows the target each request went to and why the ALB
 * answered itself when it did.
 *
 * Messages: `init` (config, run tag) → `ready` (the listener port of each node); `register`,
 * `deregister` (targets, in every node's lab group, or in its `group` kind: `warmup`); `wait-healthy` → `healthy`; `epoch` (CPU time
 * is counted from here); `report` → the records and the CPU time.
 */
import { createPicker } from '../../algorithms/index.ts';
import { realClock } from '../../core/clock.ts';
import { stream } from '../../lab/workload.ts';
import type { Target, TargetSpec } from '../../targets/target.ts';
import { waitForHealthyTargets } from '../../targets/target-group.ts';
import { ApplicationLoadBalancer } from '../../l7/application-load-balancer.ts';
import { startLocalElb, type LocalElb } from '../../local-elb.ts';
import { asChild, type Message } from './processes.ts';
import { traceIndex, type AlbInit, type AlbReport } from './protocol.ts';

let elb: LocalElb | undefined;
/** The groups the scenario's targets are registered in (`lab-<node>`), or the warm-up's (`warmup-<node>`). */
const groups = (kind: string = 'lab') => elb!.targetGroups().filter((g) => g.name.startsWith(`${kind}-`));
const parent = asChild(() => elb?.close());
const records: AlbReport['records'][number][] = [];
let cpuAtEpoch = process.cpuUsage();
let epochWallMs = realClock.now();

parent.onMessage(async (m: Message) => {
  switch (m.type) {
    case 'init': {
      const init = m as AlbInit;
      elb = await startLocalElb({
        config: init.config,
        picker: (group) => {
          const node = /^lab-(\d+)$/.exec(group.name)?.[1];
          return node === undefined ? undefined : createPicker<Target>(init.algorithm, { random: stream(init.seed, `picker/${node}`) });
        },
      });
      const ports: number[] = [];
      for (const lb of elb.loadBalancers()) {
        if (!(lb instanceof ApplicationLoadBalancer)) continue;
        ports.push(lb.ports[0]!);
        lb.onRequest((record) => {
          const index = traceIndex(record.traceId, init.runTag);
          if (index < 0) return;
          const target = record.target ? `${record.target.id}:${record.target.port}` : null;
          records.push([index, target, record.elbStatusCode, record.producedBy, record.errorCode ?? null]);
        });
      }
      parent.send({ type: 'ready', ports });
      return;
    }
    case 'register': {
      const { targets, group } = m as unknown as { targets: TargetSpec[]; group?: string };
      for (const g of groups(group)) g.register(targets);
      return;
    }
    case 'deregister':
      for (const g of groups()) void g.deregister((m as unknown as { targets: TargetSpec[] }).targets);
      return;
    case 'wait-healthy': {
      // counts by kind of group: `lab`, `warmup`.
      const { counts, timeoutMs } = m as unknown as { counts: Record<string, number>; timeoutMs: number };
      await Promise.all(
        Object.entries(counts).flatMap(([kind, count]) => groups(kind).map((g) => waitForHealthyTargets(g, count, { clock: realClock, timeoutMs, what: `targets of ${g.name}` }))),
      );
      parent.send({ type: 'healthy' });
      return;
    }
    case 'epoch':
      cpuAtEpoch = process.cpuUsage();
      epochWallMs = realClock.now();
      return;
    case 'report': {
      const cpu = process.cpuUsage(cpuAtEpoch);
      parent.send({ type: 'report', records, cpuUs: cpu.user + cpu.system, wallMs: realClock.now() - epochWallMs } satisfies AlbReport);
      return;
    }
  }
});
