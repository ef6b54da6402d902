/**
 * The `local-elb` command: the only place that reads argv, the environment and files.
 *
 * This module loads commander and nothing heavy: each command imports what it needs when it
 * runs (the load balancers for serve, the Kubernetes client for kind, vega for the lab), so
 * `--help` and the elbv2 verbs start in a fraction of a second (bench/cli.bench.ts).
 *
 * Exit codes: 0 done; 2 a usage error or an error with a code (`[ELB_ERR_…]`, one per failure);
 * 3 `scenario rollout` lost requests; 1 anything else (a bug: the stack is printed).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, ElbError, ErrorCodes, isElbError } from '../core/errors.ts';
import { quietOnClosedStdout } from './run.ts';
import type { LogFormat } from './log.ts';
import type { BenchAlgorithmsOptions } from './lab.ts';
import { addCaCommands } from './ca.ts';
import { parseRegistrationDelay } from './kind-timing.ts';
import { addElbv2EndpointOptions, addExportCommand } from './elbv2.ts';

const CLI = 'local-elb';
const DEFAULT_ADMIN = 'http://127.0.0.1:9090';

/** The package's version (package.json is two levels up from src/cli/ and from dist/cli/). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function hostPort(value: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new InvalidArgumentError(`expected HOST:PORT or PORT (0–65535): got ${JSON.stringify(value)}`);
  return { address: m[1] || m[2] || '127.0.0.1', port };
}

const wholeNumber = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer ${lo}–${hi}: got ${JSON.stringify(v)}`);
  return n;
};

const numbers = (lo: number, hi: number) => (v: string) => {
  const list = v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x.trim())));
  if (list.some((n) => !(n >= lo && n <= hi))) throw new InvalidArgumentError(`expected comma-separated numbers ${lo}–${hi}: got ${JSON.stringify(v)}`);
  return list;
};
const oneNumber = (lo: number, hi: number) => (v: string) => {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!(n >= lo && n <= hi)) throw new InvalidArgumentError(`expected a number ${lo}–${hi}: got ${JSON.stringify(v)}`);
  return n;
};

/** `--admin HOST:PORT` for the commands that serve it, with the default shown as typed. */
const listenAdminOption = () =>
  new Option('--admin <host:port>', 'where the admin API listens').argParser(hostPort).default({ address: '127.0.0.1', port: 9090 }, '127.0.0.1:9090');
/** `--admin URL` for the commands that call it. */
const callAdminOption = () => new Option('--admin <url>', 'admin API of the running local-elb').env('LOCAL_ELB_ADMIN').default(DEFAULT_ADMIN);
/** AWS's option name first; `--target-group` (the name the pod verbs used to take) is the same option. */
const targetGroupOption = (what = 'target group name') => new Option('--target-group-name, --target-group <name>', what).makeOptionMandatory();

const logOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--log-level <level>', 'log level').choices(['silent', 'error', 'warn', 'info', 'debug']).default('info'))
    .addOption(new Option('--log-format <format>', 'log format on stderr').choices(['pretty', 'json']).default('pretty'));

/** A default as a user would type it: `5`, `info`, `0,2`, not JSON. */
function typed(value: unknown): string {
  if (Array.isArray(value)) return value.map(typed).join(',');
  return String(value);
}

/** Option help with defaults and choices as they are typed (`default: 127.0.0.1:9090`, `choices: pretty, json`). */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
  if (option.defaultValue !== undefined && !option.negate) extra.push(`default: ${option.defaultValueDescription ?? typed(option.defaultValue)}`);
  if (option.envVar !== undefined) extra.push(`env: ${option.envVar}`);
  return extra.length > 0 ? `${option.description} (${extra.join('; ')})` : option.description;
}

/** AWS CLI output: the answer with PascalCase keys, four-space indented; nothing for an empty answer. */
async function print(value: unknown): Promise<void> {
  const { toAwsShape } = await import('./admin-client.ts');
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return;
  process.stdout.write(`${JSON.stringify(toAwsShape(value), null, 4)}\n`);
}

async function call(admin: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const { adminCall } = await import('./admin-client.ts');
  return adminCall(admin, method, path, body);
}

async function targets(items: readonly string[]): Promise<Array<{ id: string; port?: number }>> {
  const { parseTargets } = await import('./admin-client.ts');
  return parseTargets(items);
}

const tgPath = (name: string, rest: string) => `/v1/target-groups/${encodeURIComponent(name)}/${rest}`;

const DESCRIPTION = [
  "An AWS Elastic Load Balancer on your own machine: an Application Load Balancer (HTTP, HTTPS, HTTP/2, gRPC, WebSockets)",
  "or a Network Load Balancer (TCP, TLS, UDP) with AWS's health states, reason codes, draining and routing algorithms,",
  'in front of local processes or local pods that follow the Kubernetes lifecycle; the AWS Load Balancer Controller for',
  'a kind cluster; a graceful-shutdown harness and a routing-algorithm lab. The elbv2 verbs (describe-target-health,',
  "register-targets, …) talk to a running local-elb's admin API.",
].join(' ');

export function buildProgram(): Command {
  const program = new Command(CLI)
    .description(DESCRIPTION)
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureHelp({ optionDescription })
    .showHelpAfterError('(local-elb --help lists the commands; local-elb <command> --help its options)')
    .configureOutput({ outputError: (str, write) => write(str) })
    .option('--state-dir <dir>', 'where local-elb keeps its state, such as its certificate authority (default: $LOCAL_ELB_STATE_DIR, else ~/.local-elb)');
  program.addHelpText('after', '\nStart with `local-elb demo`: three targets behind an ALB, and what to try.');
  const stateDir = () => program.opts<{ stateDir?: string }>().stateDir;
  const withStateDir = <T extends object>(opts: T) => ({ ...opts, ...(stateDir() !== undefined ? { stateDir: stateDir()! } : {}) });

  logOptions(
    addElbv2EndpointOptions(
      program
      .command('serve')
      .description('run the load balancers, target groups and local pods of a config file until SIGINT/SIGTERM (no --config: start empty, for the ELBv2 API to fill)')
      .option('-c, --config <file>', 'YAML or JSON config file')
      .addOption(listenAdminOption())
      .option('--no-admin', 'do not start the admin API')
      .option('--access-log <file>', 'write access-log lines (ALB requests, NLB TLS connections) to this file ("-" for stdout)')
      .option('--connection-log <file>', 'write ALB connection-log lines (load balancers with connection_logs.s3.enabled "true") to this file ("-" for stdout)')
      .option('--shutdown-grace-seconds <s>', 'how long requests in flight may finish at shutdown', oneNumber(0, 3600), 5),
    ),
  ).action(async (opts: { config?: string; elbv2Endpoint?: { address: string; port: number } | false; admin: { address: string; port: number } | false; accessLog?: string; connectionLog?: string; shutdownGraceSeconds: number; logLevel: string; logFormat: LogFormat }) => {
    const { serve } = await import('./serve.ts');
    await serve(withStateDir(opts));
  });

  logOptions(
    program
      .command('demo')
      .description('start three demo targets behind an ALB (least outstanding requests) with the admin API')
      .option('-p, --port <port>', 'listener port of the demo ALB', wholeNumber(0, 65535), 8080)
      .addOption(listenAdminOption())
      .option('--targets <n>', 'how many demo targets', wholeNumber(1, 20), 3),
  ).action(async (opts: { port: number; admin: { address: string; port: number }; targets: number; logLevel: string; logFormat: LogFormat }) => {
    const [{ cliLogger }, { demoGuide, startDemo }, { runUntilSignal }] = await Promise.all([import('./log.ts'), import('./demo.ts'), import('./run.ts')]);
    const logger = cliLogger(opts.logLevel, opts.logFormat);
    const demo = await startDemo({ port: opts.port, adminAddress: opts.admin.address, adminPort: opts.admin.port, targets: opts.targets, logger });
    runUntilSignal(() => demo.stop(), (m) => logger.info(m));
    process.stdout.write(demoGuide(demo, 'npx local-elb'));
  });

  program
    .command('describe-target-groups')
    .description('list the target groups of a running local-elb')
    .addOption(callAdminOption())
    .option('--names <name...>', 'only these target groups')
    .action(async (opts: { admin: string; names?: string[] }) => {
      const all = (await call(opts.admin, 'GET', '/v1/target-groups')) as { targetGroups: Array<{ targetGroupName: string }> };
      await print({ targetGroups: opts.names ? all.targetGroups.filter((g) => opts.names!.includes(g.targetGroupName)) : all.targetGroups });
    });

  program
    .command('describe-target-health')
    .description('show the health of the targets in a target group')
    .addOption(targetGroupOption())
    .addOption(callAdminOption())
    .option('--targets <Id=ip,Port=n...>', 'only these targets')
    .addOption(new Option('--include <what>', 'extra information, as in aws elbv2').choices(['AnomalyDetection', 'All']))
    .action(async (opts: { targetGroup: string; admin: string; targets?: string[]; include?: string }) => {
      const params = [
        ...(opts.targets ? (await targets(opts.targets)).map((t) => `id=${encodeURIComponent(t.id)}${t.port ? `&port=${t.port}` : ''}`) : []),
        ...(opts.include ? [`include=${opts.include}`] : []),
      ];
      const query = params.length > 0 ? `?${params.join('&')}` : '';
      await print(await call(opts.admin, 'GET', tgPath(opts.targetGroup, `target-health${query}`)));
    });

  program
    .command('register-targets')
    .description('register targets with a target group (prints nothing, as the AWS CLI)')
    .addOption(targetGroupOption())
    .addOption(callAdminOption())
    .requiredOption('--targets <Id=ip,Port=n...>', 'targets, e.g. Id=127.0.0.1,Port=3001')
    .action(async (opts: { targetGroup: string; admin: string; targets: string[] }) => {
      await print(await call(opts.admin, 'POST', tgPath(opts.targetGroup, 'register-targets'), { targets: await targets(opts.targets) }));
    });

  program
    .command('deregister-targets')
    .description('deregister targets: they drain for deregistration_delay.timeout_seconds (prints nothing unless --wait)')
    .addOption(targetGroupOption())
    .addOption(callAdminOption())
    .requiredOption('--targets <Id=ip,Port=n...>', 'targets, e.g. Id=127.0.0.1,Port=3001')
    .option('--wait', 'wait until draining has ended and print how it ended')
    .action(async (opts: { targetGroup: string; admin: string; targets: string[]; wait?: boolean }) => {
      await print(await call(opts.admin, 'POST', tgPath(opts.targetGroup, `deregister-targets${opts.wait ? '?wait=true' : ''}`), { targets: await targets(opts.targets) }));
    });

  program
    .command('describe-target-group-attributes')
    .description('show the attributes of a target group')
    .addOption(targetGroupOption())
    .addOption(callAdminOption())
    .action(async (opts: { targetGroup: string; admin: string }) => {
      await print(await call(opts.admin, 'GET', tgPath(opts.targetGroup, 'attributes')));
    });

  program
    .command('modify-target-group-attributes')
    .description('change attributes of a target group (prints all of them after the change, as the AWS CLI)')
    .addOption(targetGroupOption())
    .addOption(callAdminOption())
    .requiredOption('--attributes <Key=k,Value=v...>', 'e.g. Key=deregistration_delay.timeout_seconds,Value=30')
    .action(async (opts: { targetGroup: string; admin: string; attributes: string[] }) => {
      const { parseShorthand } = await import('./admin-client.ts');
      const attributes = opts.attributes.map((a) => {
        let kv: Record<string, string>;
        try {
          kv = parseShorthand(a);
        } catch (err) {
          throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--attributes ${(err as Error).message}`);
        }
        if (kv.key === undefined || kv.value === undefined) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--attributes: each attribute must be Key=<key>,Value=<value>: got ${JSON.stringify(a)}`);
        return { key: kv.key, value: kv.value };
      });
      await print(await call(opts.admin, 'PUT', tgPath(opts.targetGroup, 'attributes'), { attributes }));
    });

  program
    .command('describe-load-balancers')
    .description('list the load balancers of a running local-elb')
    .addOption(callAdminOption())
    .action(async (opts: { admin: string }) => print(await call(opts.admin, 'GET', '/v1/load-balancers')));

  const podGroupOption = () => targetGroupOption('a target group backed by local pods');

  program
    .command('rollout')
    .description('replace the pods of a target group under its rolling-update limits')
    .addOption(podGroupOption())
    .addOption(callAdminOption())
    .option('--wait', 'return when the rollout is done')
    .action(async (opts: { targetGroup: string; admin: string; wait?: boolean }) => {
      await print(await call(opts.admin, 'POST', tgPath(opts.targetGroup, `rollout${opts.wait ? '?wait=true' : ''}`)));
    });

  program
    .command('get-pods')
    .description('list the local pods of a target group')
    .addOption(podGroupOption())
    .addOption(callAdminOption())
    .action(async (opts: { targetGroup: string; admin: string }) => {
      await print(await call(opts.admin, 'GET', tgPath(opts.targetGroup, 'pods')));
    });

  program
    .command('scale')
    .description('set the number of pods of a target group')
    .addOption(podGroupOption())
    .addOption(callAdminOption())
    .requiredOption('--replicas <n>', 'pods wanted', wholeNumber(0, 100))
    .action(async (opts: { targetGroup: string; admin: string; replicas: number }) => {
      await print(await call(opts.admin, 'POST', tgPath(opts.targetGroup, 'scale'), { replicas: opts.replicas }));
    });

  program
    .command('delete-pod')
    .description('delete one pod (the Kubernetes termination sequence); a replacement starts at once')
    .addOption(podGroupOption())
    .addOption(callAdminOption())
    .requiredOption('--pod <name>', 'pod name (see get-pods)')
    .action(async (opts: { targetGroup: string; admin: string; pod: string }) => {
      await print(await call(opts.admin, 'DELETE', tgPath(opts.targetGroup, `pods/${encodeURIComponent(opts.pod)}`)));
    });

  const scenario = program.command('scenario').description('rehearse Kubernetes operations behind an ELB on this machine');
  logOptions(
    scenario
      .command('rollout')
      .description('roll an app out under load for each preStop × propagation combination and print which lose requests (exit 3 if any did)')
      .requiredOption('--app <command>', 'the app, e.g. "node server.js"; it must listen on $HOST:$PORT')
      .option('--replicas <n>', 'pods', wholeNumber(1, 20), 3)
      .option('--rps <n>', 'requests per second during the rollout', oneNumber(1, 100_000), 200)
      .option('--prestop <seconds,...>', 'preStop sleep values to try', numbers(0, 3600), [0])
      .option('--propagation <seconds,...>', 'endpoint propagation delays to try', numbers(0, 600), [1])
      .option('--grace <seconds>', 'terminationGracePeriodSeconds', oneNumber(0, 3600), 30)
      .option('--deregistration-lag <seconds>', 'how long the ELB keeps sending new requests after the endpoint goes', oneNumber(0, 600), 0)
      .option('--readiness-path <path>', 'readiness probe and health-check path', '/')
      .option('--report', "print each run's timeline")
      .option('--json <file>', "write every run's report as JSON")
      .option('--html <file>', "write every run's request-fate timeline as one standalone HTML page")
      .addOption(new Option('--dashboard <host:port>', 'serve the dashboard of each run there while it runs, to watch the rollout live').argParser(hostPort)),
  ).action(async (opts: import('./scenario.ts').ScenarioRolloutOptions) => {
    const { scenarioRollout } = await import('./scenario.ts');
    await scenarioRollout(opts);
  });

  logOptions(
    addElbv2EndpointOptions(
      program
      .command('kind')
      .description('act as the AWS Load Balancer Controller and its ELBs for a local (kind) cluster')
      .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context (default: the current context)')
      .option('--in-cluster', 'use the service account of the pod local-elb runs in')
      .option('--address-prefix <a.b>', 'each load balancer listens on its own <a.b>.x.y loopback address', '127.240')
      .option('--listen-address <ip>', 'listen on this one address instead (in the cluster: the node IP)')
      .option('--load-balancer-class <class>', 'Service loadBalancerClass to serve', 'service.k8s.aws/nlb')
      .option('-c, --config <file>', 'YAML or JSON file: certificates: map the certificate ARNs of your annotations to PEM files (others are issued by the local CA); targetGroups: and loadBalancers: (the serve schema) run beside the cluster\'s, for TargetGroupBindings')
      .addOption(
        new Option('--registration-delay <seconds | alb=S,nlb=S>', 'how long a new target stays initial (Elb.RegistrationInProgress) before its first health check, for both load balancer types or per type (default 0)').argParser(
          (v: string) => parseRegistrationDelay(v),
        ),
      )
      .option('--aws-timing', 'AWS-like registration times: NLB targets 120 s, ALB targets 0 s (--registration-delay overrides per type)')
      .addOption(listenAdminOption())
      .option('--no-admin', 'do not start the admin API'),
    ),
  ).action(async (opts: import('./kind.ts').KindOptions) => {
    const { kind } = await import('./kind.ts');
    await kind(withStateDir(opts));
  });

  const bench = program.command('bench').description('benchmarks: the routing-algorithm lab and the real-socket proxy benchmark');
  bench
    .command('proxy')
    .description('real sockets, separate processes: local-elb ALB (round robin, least outstanding) and NLB against direct-to-target, http-proxy, a bare Node pipe, and HAProxy/nginx when installed, as ratios (needs the repository)')
    .option('--duration <s>', 'seconds measured per system', '5')
    .option('--connections <n>', 'load-generator connections', '50')
    .option('--rounds <n>', 'rounds (each system keeps its best / median round)', '1')
    .option('--layers <l7,l4>', 'which benchmarks to run', 'l7,l4')
    .action(async (opts: { duration: string; connections: string; rounds: string; layers: string }) => {
      const { spawn } = await import('node:child_process');
      const { fileURLToPath } = await import('node:url');
      const { typeScriptExecArgv } = await import('./children.ts');
      for (const layer of opts.layers.split(',').map((l) => l.trim())) {
        if (layer !== 'l7' && layer !== 'l4') throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--layers: expected l7, l4 or l7,l4: got ${JSON.stringify(opts.layers)}`);
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
    .option('--requests <n>', "requests to simulate (default: the scenario's)", wholeNumber(1, 100_000_000))
    .option('--seed <n>', "seed of every random stream (default: the scenario's)", wholeNumber(0, 0xffffffff))
    .option('--rate <n>', "client requests per second (default: the scenario's)", oneNumber(0.001, 100_000_000))
    .option('--algorithms <a,b>', 'only these runs (algorithm names or labels from the scenario)', (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .option('--html <file>', 'write an HTML report with the table and charts')
    .option('--svg-dir <dir>', 'write the charts as SVG files into this directory')
    .option('--json <file>', "write every run's results as JSON")
    .option('--real', "run the scenario on real sockets (target processes, local-elb, an open-loop load generator), the simulator's prediction beside each figure")
    .option('--duration <time>', 'with --real: how long clients arrive per run (30s, 500ms, 2m; default 10s)')
    .option('--targets <url,url>', 'with --real: your own running instances instead of model targets', (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .option('--together', 'with --real: run the algorithms at the same time, so that what disturbs the machine disturbs them alike')
    .action(async (opts: BenchAlgorithmsOptions) => {
      const { benchAlgorithms } = await import('./lab.ts');
      await benchAlgorithms(opts, process.stdout, process.stderr);
    });

  addCaCommands(program);
  addExportCommand(program, callAdminOption);

  program
    .command('validate')
    .description('check a config file and print it with every default filled in (warnings on stderr)')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file')
    .action(async (opts: { config: string }) => {
      const [{ loadConfigFile }, { printableConfig }, { configWarnings }] = await Promise.all([import('./config-file.ts'), import('../config/print.ts'), import('../config/warnings.ts')]);
      const config = await loadConfigFile(opts.config);
      for (const w of configWarnings(config)) process.stderr.write(`${CLI}: warning in ${opts.config}: ${w.path}: ${w.message}\n`);
      process.stdout.write(`${JSON.stringify(printableConfig(config), null, 2)}\n`);
    });

  return program;
}

/** Runs the CLI with `argv` (`process.argv`: node, script, arguments…) and exits with its code. */
export async function main(argv: readonly string[]): Promise<void> {
  quietOnClosedStdout();
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    // Commander has printed its own message (usage errors, --help, --version).
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    const message = err instanceof ConfigError ? err.message : isElbError(err) ? `${err.message} [${err.code}]` : ((err as Error).stack ?? String(err));
    // stderr may be a pipe (asynchronous): exit only once the message is out.
    process.stderr.write(`${CLI}: ${message}\n`, () => process.exit(isElbError(err) ? 2 : 1));
  }
}
