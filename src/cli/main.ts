/**
 * The `local-elb` command: the only place that reads argv, the environment and files.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, ElbError, isElbError } from '../core/errors.ts';
import { accessLogLine } from '../l7/access-log.ts';
import { ApplicationLoadBalancer } from '../l7/application-load-balancer.ts';
import { nlbAccessLogLine } from '../l4/access-log.ts';
import { NetworkLoadBalancer } from '../l4/network-load-balancer.ts';
import { startAdminServer } from '../admin/server.ts';
import { startLocalElb } from '../local-elb.ts';
import { adminCall, DEFAULT_ADMIN, parseShorthand, parseTargets, toAwsShape } from './admin-client.ts';
import { printableConfig } from '../config/print.ts';
import { loadConfigFile } from './config-file.ts';
import { demoGuide, startDemo } from './demo.ts';
import { cliLogger, type LogFormat } from './log.ts';
import { formatSweep, runRolloutScenario, type ScenarioResult } from '../harness/scenario.ts';
import { benchAlgorithms, type BenchAlgorithmsOptions } from './lab.ts';
import { addCaCommands } from './ca.ts';

const CLI = 'local-elb';

function hostPort(value: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new InvalidArgumentError(`expected HOST:PORT or PORT (0–65535): got ${JSON.stringify(value)}`);
  return { address: m[1] || m[2] || '127.0.0.1', port };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port 0–65535: got ${JSON.stringify(value)}`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new InvalidArgumentError(`expected an integer 1–20: got ${JSON.stringify(value)}`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 3600)) throw new InvalidArgumentError(`expected seconds 0–3600: got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Runs until SIGINT or SIGTERM, then `stop()`; a second signal exits at once. An uncaught
 * error also stops (children included) and exits 1.
 */
function runUntilSignal(stop: () => Promise<void>, log: (msg: string) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    log(`${signal}: shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error while shutting down: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', (err) => {
    log(`fatal: ${err.stack ?? String(err)}`);
    stop().finally(() => process.exit(1));
  });
}

const adminOption = () =>
  new Option('--admin <url>', 'admin API of the running local-elb').env('LOCAL_ELB_ADMIN').default(DEFAULT_ADMIN);
const logOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--log-level <level>', 'log level').choices(['silent', 'error', 'warn', 'info', 'debug']).default('info'))
    .addOption(new Option('--log-format <format>', 'log format on stderr').choices(['pretty', 'json']).default('pretty'));

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(toAwsShape(value), null, 4)}\n`);
}

export function buildProgram(): Command {
  const program = new Command(CLI)
    .description('An AWS Elastic Load Balancer (ALB) on your own machine, in front of local processes.')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) })
    .option('--state-dir <dir>', "where local-elb keeps its state, such as its certificate authority (default: $LOCAL_ELB_STATE_DIR, else ~/.local-elb)");

  logOptions(
    program
      .command('serve')
      .description('run the load balancers and target groups of a config file until SIGINT/SIGTERM')
      .requiredOption('-c, --config <file>', 'YAML or JSON config file')
      .option('--admin <host:port>', 'where the admin API listens', hostPort, { address: '127.0.0.1', port: 9090 })
      .option('--no-admin', 'do not start the admin API')
      .option('--access-log <file>', 'write access-log lines (ALB requests, NLB TLS connections) to this file ("-" for stdout)')
      .option('--shutdown-grace-seconds <s>', 'how long requests in flight may finish at shutdown', seconds, 5),
  ).action(async (opts: { config: string; admin: { address: string; port: number } | false; accessLog?: string; shutdownGraceSeconds: number; logLevel: string; logFormat: LogFormat }) => {
    const logger = cliLogger(opts.logLevel, opts.logFormat);
    const config = await loadConfigFile(opts.config);
    const stateDir = program.opts<{ stateDir?: string }>().stateDir;
    const elb = await startLocalElb({ config, logger, ...(stateDir !== undefined ? { stateDir } : {}) });
    let accessLog: WriteStream | NodeJS.WriteStream | undefined;
    if (opts.accessLog !== undefined) {
      const out = opts.accessLog === '-' ? process.stdout : createWriteStream(opts.accessLog, { flags: 'a' });
      accessLog = out;
      for (const lb of elb.loadBalancers()) {
        if (lb instanceof ApplicationLoadBalancer) lb.onRequest((r) => out.write(`${accessLogLine(r)}\n`));
        else if (lb instanceof NetworkLoadBalancer) lb.onTlsConnection((r) => out.write(`${nlbAccessLogLine(r)}\n`));
      }
    }
    let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
    try {
      if (opts.admin !== false) admin = await startAdminServer(elb, { ...opts.admin, logger });
    } catch (err) {
      await elb.close();
      throw err;
    }
    for (const lb of elb.loadBalancers()) {
      lb.ports.forEach((_, i) => process.stdout.write(`${CLI}: load balancer ${lb.name} listening on ${lb.url(i)}\n`));
    }
    if (admin) process.stdout.write(`${CLI}: admin API on ${admin.url}\n`);
    runUntilSignal(async () => {
      await admin?.close();
      await elb.close(opts.shutdownGraceSeconds * 1000);
      if (accessLog && accessLog !== process.stdout) await new Promise<void>((r) => (accessLog as WriteStream).end(() => r()));
    }, (m) => logger.info(m));
  });

  logOptions(
    program
      .command('demo')
      .description('start three demo targets behind an ALB (least outstanding requests) with the admin API')
      .option('-p, --port <port>', 'listener port of the demo ALB', port, 8080)
      .option('--admin <host:port>', 'where the admin API listens', hostPort, { address: '127.0.0.1', port: 9090 })
      .option('--targets <n>', 'how many demo targets', positiveInt, 3),
  ).action(async (opts: { port: number; admin: { address: string; port: number }; targets: number; logLevel: string; logFormat: LogFormat }) => {
    const logger = cliLogger(opts.logLevel, opts.logFormat);
    const demo = await startDemo({ port: opts.port, adminAddress: opts.admin.address, adminPort: opts.admin.port, targets: opts.targets, logger });
    process.stdout.write(demoGuide(demo, 'npx local-elb'));
    runUntilSignal(() => demo.stop(), (m) => logger.info(m));
  });

  const tgName = (cmd: Command) => cmd.requiredOption('--target-group-name <name>', 'target group name').addOption(adminOption());
  const path = (name: string, rest: string) => `/v1/target-groups/${encodeURIComponent(name)}/${rest}`;

  program
    .command('describe-target-groups')
    .description('list the target groups of a running local-elb')
    .addOption(adminOption())
    .option('--names <name...>', 'only these target groups')
    .action(async (opts: { admin: string; names?: string[] }) => {
      const all = (await adminCall(opts.admin, 'GET', '/v1/target-groups')) as { targetGroups: Array<{ targetGroupName: string }> };
      print({ targetGroups: opts.names ? all.targetGroups.filter((g) => opts.names!.includes(g.targetGroupName)) : all.targetGroups });
    });

  tgName(program.command('describe-target-health').description('show the health of the targets in a target group'))
    .option('--targets <Id=ip,Port=n...>', 'only these targets')
    .addOption(new Option('--include <what>', 'extra information, as in aws elbv2').choices(['AnomalyDetection', 'All']))
    .action(async (opts: { targetGroupName: string; admin: string; targets?: string[]; include?: string }) => {
      const params = [
        ...(opts.targets ? parseTargets(opts.targets).map((t) => `id=${encodeURIComponent(t.id)}${t.port ? `&port=${t.port}` : ''}`) : []),
        ...(opts.include ? [`include=${opts.include}`] : []),
      ];
      const query = params.length > 0 ? `?${params.join('&')}` : '';
      print(await adminCall(opts.admin, 'GET', path(opts.targetGroupName, `target-health${query}`)));
    });

  tgName(program.command('register-targets').description('register targets with a target group'))
    .requiredOption('--targets <Id=ip,Port=n...>', 'targets, e.g. Id=127.0.0.1,Port=3001')
    .action(async (opts: { targetGroupName: string; admin: string; targets: string[] }) => {
      print(await adminCall(opts.admin, 'POST', path(opts.targetGroupName, 'register-targets'), { targets: parseTargets(opts.targets) }));
    });

  tgName(program.command('deregister-targets').description('deregister targets (they drain for deregistration_delay.timeout_seconds)'))
    .requiredOption('--targets <Id=ip,Port=n...>', 'targets, e.g. Id=127.0.0.1,Port=3001')
    .option('--wait', 'wait until draining has ended and print how it ended')
    .action(async (opts: { targetGroupName: string; admin: string; targets: string[]; wait?: boolean }) => {
      print(await adminCall(opts.admin, 'POST', path(opts.targetGroupName, `deregister-targets${opts.wait ? '?wait=true' : ''}`), { targets: parseTargets(opts.targets) }));
    });

  tgName(program.command('describe-target-group-attributes').description('show the attributes of a target group')).action(
    async (opts: { targetGroupName: string; admin: string }) => {
      print(await adminCall(opts.admin, 'GET', path(opts.targetGroupName, 'attributes')));
    },
  );

  tgName(program.command('modify-target-group-attributes').description('change attributes of a target group'))
    .requiredOption('--attributes <Key=k,Value=v...>', 'e.g. Key=deregistration_delay.timeout_seconds,Value=30')
    .action(async (opts: { targetGroupName: string; admin: string; attributes: string[] }) => {
      const attributes = opts.attributes.map((a) => {
        const kv = parseShorthand(a);
        if (kv.key === undefined || kv.value === undefined) throw new ElbError('ELB_ERR_INVALID_ARGUMENT', `an attribute needs Key=…,Value=…: got ${JSON.stringify(a)}`);
        return { key: kv.key, value: kv.value };
      });
      print(await adminCall(opts.admin, 'PUT', path(opts.targetGroupName, 'attributes'), { attributes }));
    });

  const tgOption = (cmd: Command) => cmd.requiredOption('--target-group <name>', 'a target group backed by local pods').addOption(adminOption());

  tgOption(program.command('rollout').description('replace the pods of a target group under its rolling-update limits'))
    .option('--wait', 'return when the rollout is done')
    .action(async (opts: { targetGroup: string; admin: string; wait?: boolean }) => {
      print(await adminCall(opts.admin, 'POST', path(opts.targetGroup, `rollout${opts.wait ? '?wait=true' : ''}`)));
    });

  tgOption(program.command('get-pods').description('list the local pods of a target group')).action(async (opts: { targetGroup: string; admin: string }) => {
    print(await adminCall(opts.admin, 'GET', path(opts.targetGroup, 'pods')));
  });

  tgOption(program.command('scale').description('set the number of pods of a target group'))
    .requiredOption('--replicas <n>', 'pods wanted', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError(`expected an integer 0–100: got ${JSON.stringify(v)}`);
      return n;
    })
    .action(async (opts: { targetGroup: string; admin: string; replicas: number }) => {
      print(await adminCall(opts.admin, 'POST', path(opts.targetGroup, 'scale'), { replicas: opts.replicas }));
    });

  tgOption(program.command('delete-pod').description('delete one pod (the Kubernetes termination sequence); a replacement starts at once'))
    .requiredOption('--pod <name>', 'pod name (see get-pods)')
    .action(async (opts: { targetGroup: string; admin: string; pod: string }) => {
      print(await adminCall(opts.admin, 'DELETE', path(opts.targetGroup, `pods/${encodeURIComponent(opts.pod)}`)));
    });

  const numbers = (name: string, lo: number, hi: number) => (v: string) => {
    const list = v.split(',').map((x) => Number(x.trim()));
    if (list.length === 0 || list.some((n) => !(n >= lo && n <= hi))) throw new InvalidArgumentError(`${name}: expected comma-separated numbers ${lo}–${hi}: got ${JSON.stringify(v)}`);
    return list;
  };
  const scenario = program.command('scenario').description('rehearse Kubernetes operations behind an ELB on this machine');
  logOptions(
    scenario
      .command('rollout')
      .description('roll an app out under load for each preStop × propagation combination and print which lose requests')
      .requiredOption('--app <command>', 'the app, e.g. "node server.js"; it must listen on $HOST:$PORT')
      .option('--replicas <n>', 'pods', positiveInt, 3)
      .option('--rps <n>', 'requests per second during the rollout', (v: string) => numbers('--rps', 1, 100000)(v)[0]!, 200)
      .option('--prestop <seconds,...>', 'preStop sleep values to try', numbers('--prestop', 0, 3600), [0])
      .option('--propagation <seconds,...>', 'endpoint propagation delays to try', numbers('--propagation', 0, 600), [1])
      .option('--grace <seconds>', 'terminationGracePeriodSeconds', (v: string) => numbers('--grace', 0, 3600)(v)[0]!, 30)
      .option('--deregistration-lag <seconds>', 'how long the ELB keeps sending new requests after the endpoint goes', (v: string) => numbers('--deregistration-lag', 0, 600)(v)[0]!, 0)
      .option('--readiness-path <path>', 'readiness probe and health-check path', '/')
      .option('--report', 'print each run\'s timeline')
      .option('--json <file>', 'write every run\'s report as JSON'),
  ).action(
    async (opts: {
      app: string;
      replicas: number;
      rps: number;
      prestop: number[];
      propagation: number[];
      grace: number;
      deregistrationLag: number;
      readinessPath: string;
      report?: boolean;
      json?: string;
      logLevel: string;
      logFormat: LogFormat;
    }) => {
      const logger = cliLogger(opts.logLevel === 'info' ? 'warn' : opts.logLevel, opts.logFormat);
      const command = opts.app.split(/\s+/).filter((x) => x !== '');
      const results: ScenarioResult[] = [];
      let stopping = false;
      process.once('SIGINT', () => {
        stopping = true;
        process.stderr.write('SIGINT: finishing the current run, then stopping\n');
      });
      for (const preStopSeconds of opts.prestop) {
        for (const propagationSeconds of opts.propagation) {
          if (stopping) break;
          process.stderr.write(`run: preStop ${preStopSeconds}s, propagation ${propagationSeconds}s …\n`);
          const r = await runRolloutScenario(
            {
              command,
              replicas: opts.replicas,
              rps: opts.rps,
              preStopSeconds,
              propagationSeconds,
              gracePeriodSeconds: opts.grace,
              deregistrationLagSeconds: opts.deregistrationLag,
              readinessPath: opts.readinessPath,
            },
            { logger },
          );
          results.push(r);
          if (opts.report) process.stdout.write(`\n${r.report.format()}\n\n`);
        }
      }
      process.stdout.write(`${formatSweep(results)}\n`);
      if (opts.json) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(opts.json, JSON.stringify(results.map((r) => ({ scenario: r.scenario, rolloutSeconds: r.rolloutSeconds, report: r.report })), null, 2));
      }
      process.exitCode = results.some((r) => r.report.failed.length > 0) ? 3 : 0;
    },
  );

  logOptions(
    program
      .command('kind')
      .description('act as the AWS Load Balancer Controller and its ELBs for a local (kind) cluster')
      .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context (default: the current context)')
      .option('--in-cluster', 'use the service account of the pod local-elb runs in')
      .option('--address-prefix <a.b>', 'each load balancer listens on its own <a.b>.x.y loopback address', '127.240')
      .option('--listen-address <ip>', 'listen on this one address instead (in the cluster: the node IP)')
      .option('--load-balancer-class <class>', 'Service loadBalancerClass to serve', 'service.k8s.aws/nlb')
      .option('-c, --config <file>', 'YAML or JSON file whose certificates: map the certificate ARNs of your annotations to PEM files (others are issued by the local CA)')
      .option('--admin <host:port>', 'where the admin API listens', hostPort, { address: '127.0.0.1', port: 9090 })
      .option('--no-admin', 'do not start the admin API'),
  ).action(
    async (opts: {
      kubeconfig?: string;
      context?: string;
      inCluster?: boolean;
      addressPrefix: string;
      listenAddress?: string;
      loadBalancerClass: string;
      config?: string;
      admin: { address: string; port: number } | false;
      logLevel: string;
      logFormat: LogFormat;
    }) => {
      const logger = cliLogger(opts.logLevel, opts.logFormat);
      if (!/^\d{1,3}\.\d{1,3}$/.test(opts.addressPrefix)) throw new InvalidArgumentError(`--address-prefix must look like 127.240: got ${JSON.stringify(opts.addressPrefix)}`);
      const stateDir = program.opts<{ stateDir?: string }>().stateDir;
      const { loadKindConfig } = await import('./kind-config.ts');
      const kindConfig = opts.config === undefined ? undefined : await loadKindConfig(opts.config);
      const { KubeConfig } = await import('@kubernetes/client-node');
      const { KubernetesController } = await import('../k8s/controller.ts');
      const kubeConfig = new KubeConfig();
      if (opts.inCluster) kubeConfig.loadFromCluster();
      else if (opts.kubeconfig) kubeConfig.loadFromFile(opts.kubeconfig);
      else kubeConfig.loadFromDefault();
      if (opts.context) kubeConfig.setCurrentContext(opts.context);
      const controller = new KubernetesController({
        kubeConfig,
        logger,
        addressPrefix: opts.addressPrefix,
        loadBalancerClass: opts.loadBalancerClass,
        ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
        ...(kindConfig ? { certificates: kindConfig.certificates } : {}),
        ...(stateDir !== undefined ? { stateDir } : {}),
      });
      await controller.start();
      const admin = opts.admin === false ? undefined : await startAdminServer(controller.view(), { ...opts.admin, logger });
      process.stdout.write(`${CLI}: watching ${kubeConfig.getCurrentCluster()?.server ?? 'the cluster'}; ${controller.stacks().size} load balancers\n`);
      if (admin) process.stdout.write(`${CLI}: admin API on ${admin.url}\n`);
      runUntilSignal(async () => {
        await admin?.close();
        await controller.stop();
      }, (m) => logger.info(m));
    },
  );

  const wholeNumber = (name: string, lo: number, hi: number) => (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`${name}: expected an integer ${lo}–${hi}: got ${JSON.stringify(v)}`);
    return n;
  };
  const bench = program.command('bench').description('benchmarks: the routing-algorithm lab and the real-socket proxy benchmark');
  bench
    .command('proxy')
    .description('real sockets, separate processes: local-elb ALB (round robin, least outstanding) and NLB against direct-to-target, http-proxy, a bare Node pipe, and HAProxy/nginx when installed, as ratios')
    .option('--duration <s>', 'seconds measured per system', '5')
    .option('--connections <n>', 'load-generator connections', '50')
    .option('--rounds <n>', 'rounds (each system keeps its best / median round)', '1')
    .option('--layers <l7,l4>', 'which benchmarks to run', 'l7,l4')
    .action(async (opts: { duration: string; connections: string; rounds: string; layers: string }) => {
      const { spawn } = await import('node:child_process');
      const { fileURLToPath } = await import('node:url');
      const { typeScriptExecArgv } = await import('./children.ts');
      for (const layer of opts.layers.split(',').map((l) => l.trim())) {
        if (layer !== 'l7' && layer !== 'l4') throw new InvalidArgumentError(`--layers: l7 or l4: got ${JSON.stringify(layer)}`);
        const script = fileURLToPath(new URL(`../../bench/${layer}.bench.ts`, import.meta.url));
        const args = [...typeScriptExecArgv(), script, '--duration', opts.duration, '--connections', opts.connections, '--rounds', opts.rounds];
        const child = spawn(process.execPath, args, { stdio: 'inherit' });
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
        if (code !== 0) {
          process.exitCode = code;
          return;
        }
      }
    });
  bench
    .command('algorithms')
    .description('simulate a scenario on a virtual clock under each routing algorithm and compare latency, errors and balance')
    .option('-s, --scenario <name|file>', 'a built-in scenario (see --list) or a YAML/JSON scenario file')
    .option('--list', 'list the built-in scenarios')
    .option('--requests <n>', 'requests to simulate (default: the scenario\'s)', wholeNumber('--requests', 1, 100_000_000))
    .option('--seed <n>', 'seed of every random stream (default: the scenario\'s)', wholeNumber('--seed', 0, 0xffffffff))
    .option('--rate <n>', 'client requests per second (default: the scenario\'s)', (v: string) => numbers('--rate', 0.001, 100_000_000)(v)[0]!)
    .option('--algorithms <a,b>', 'only these runs (algorithm names or labels from the scenario)', (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .option('--html <file>', 'write an HTML report with the table and charts')
    .option('--svg-dir <dir>', 'write the charts as SVG files into this directory')
    .option('--json <file>', 'write every run\'s results as JSON')
    .option('--real', "run the scenario on real sockets (target processes, local-elb, an open-loop load generator), the simulator's prediction beside each figure")
    .option('--duration <time>', 'with --real: how long clients arrive per run (30s, 500ms, 2m; default 10s)')
    .option('--targets <url,url>', 'with --real: your own running instances instead of model targets', (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .action(async (opts: BenchAlgorithmsOptions) => benchAlgorithms(opts, process.stdout, process.stderr));

  program
    .command('describe-load-balancers')
    .description('list the load balancers of a running local-elb')
    .addOption(adminOption())
    .action(async (opts: { admin: string }) => print(await adminCall(opts.admin, 'GET', '/v1/load-balancers')));

  addCaCommands(program);

  program
    .command('validate')
    .description('check a config file and print it with every default filled in')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file')
    .action(async (opts: { config: string }) => {
      process.stdout.write(`${JSON.stringify(printableConfig(await loadConfigFile(opts.config)), null, 2)}\n`);
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    const message =
      err instanceof ConfigError ? err.message : isElbError(err) ? `${err.message} [${err.code}]` : ((err as Error).stack ?? String(err));
    // stderr may be a pipe (asynchronous): exit only once the message is out.
    process.stderr.write(`${CLI}: ${message}\n`, () => process.exit(isElbError(err) ? 2 : 1));
  }
}

if (process.env.LOCAL_ELB_RUN_MAIN === '1') {
  delete process.env.LOCAL_ELB_RUN_MAIN;
  delete process.env.LOCAL_ELB_CHILD;
  // Started by bin/local-elb.js with Node flags: end with it, whatever ends it (a SIGKILL too).
  if (process.channel !== undefined) {
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  await main(process.argv);
}
