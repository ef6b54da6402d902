/**
 * The CLI's side of the ELBv2 API (issue #15): `--elbv2-endpoint HOST:PORT` and
 * `--no-elbv2-endpoint` for `serve`, starting the endpoint beside the admin API, and
 * `local-elb export`, which prints the running state as a config file. Kept apart from
 * main.ts so the commands' surface there stays one line each.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from '../core/logger.ts';
import type { Config } from '../config/schema.ts';
import type { ElbRuntime, ElbView } from '../runtime/runtime.ts';
import type { ManagedResources } from '../elbv2/api.ts';
import type { Elbv2Endpoint } from '../elbv2/server.ts';
import type { TargetGroupDirectory } from '../k8s/target-group-binding-controller.ts';

export const DEFAULT_ELBV2_ENDPOINT = { address: '127.0.0.1', port: 4566 } as const;

function endpointAddress(value: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new InvalidArgumentError(`expected HOST:PORT or PORT (port 0–65535): got ${JSON.stringify(value)}`);
  return { address: m[1] || m[2] || '127.0.0.1', port };
}

/**
 * `--elbv2-endpoint HOST:PORT` and `--no-elbv2-endpoint`. Unset, the endpoint is tried on
 * 127.0.0.1:4566 (LocalStack's port), and a port already taken there (LocalStack itself, or a
 * second local-elb) is a warning, not a failure; one given explicitly must bind.
 */
export function addElbv2EndpointOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--elbv2-endpoint <host:port>', `where the ELBv2 API listens, for the AWS SDKs, boto3 and aws elbv2 --endpoint-url (default: ${DEFAULT_ELBV2_ENDPOINT.address}:${DEFAULT_ELBV2_ENDPOINT.port}, skipped with a warning when taken)`).argParser(
        endpointAddress,
      ),
    )
    .option('--no-elbv2-endpoint', 'do not serve the ELBv2 API');
}

/**
 * Starts the ELBv2 endpoint over `runtime` and says where, with the variable that points the
 * AWS SDKs and CLI at it. `where` undefined: the default address, where a bind failure only warns.
 */
export async function startElbv2ForCli(
  runtime: ElbRuntime,
  where: { address: string; port: number } | false | undefined,
  logger: Logger,
  out: NodeJS.WritableStream,
  managed?: ManagedResources,
  /** The state directory (`--state-dir`): trust store bundles and CRLs are read from its `s3/` unless $LOCAL_ELB_S3_DIR says otherwise. */
  stateDir?: string,
): Promise<Elbv2Endpoint | undefined> {
  if (where === false) return undefined;
  const [{ startElbv2Endpoint }, { defaultS3Dir }, { defaultStateDir }] = await Promise.all([import('../elbv2/server.ts'), import('../elbv2/trust-stores.ts'), import('../tls/ca.ts')]);
  const { isElbError, ErrorCodes } = await import('../core/errors.ts');
  let endpoint;
  try {
    endpoint = await startElbv2Endpoint(runtime, { ...(where ?? DEFAULT_ELBV2_ENDPOINT), logger, ...(managed ? { managed } : {}), s3Dir: defaultS3Dir(stateDir ?? defaultStateDir()) });
  } catch (err) {
    if (where !== undefined || !isElbError(err, ErrorCodes.LISTEN_FAILED)) throw err;
    logger.warn(
      { event: 'elbv2.not_started', address: `${DEFAULT_ELBV2_ENDPOINT.address}:${DEFAULT_ELBV2_ENDPOINT.port}` },
      `the ELBv2 API is not served: ${err.message} (LocalStack, or another local-elb?); give --elbv2-endpoint HOST:PORT, or --no-elbv2-endpoint`,
    );
    return undefined;
  }
  out.write(`local-elb: ELBv2 API on ${endpoint.url} (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2=${endpoint.url}, or aws elbv2 --endpoint-url ${endpoint.url})\n`);
  return endpoint;
}

/** `local-elb export`: the running state (what the config file, the admin API and the ELBv2 API made of it) as a config file. */
export function addExportCommand(program: Command, adminOption: () => Option): void {
  program
    .command('export')
    .description('print the running state of a local-elb as a config file (YAML), to save what a script built and serve it again')
    .addOption(adminOption())
    .addOption(new Option('--output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (opts: { admin: string; output: 'yaml' | 'json' }) => {
      const { adminCall } = await import('./admin-client.ts');
      const { config } = (await adminCall(opts.admin, 'GET', '/v1/config')) as { config: unknown };
      if (opts.output === 'json') process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      else {
        const { stringify } = await import('yaml');
        process.stdout.write(`# local-elb export: the running state of ${opts.admin}; serve it with local-elb serve --config FILE\n${stringify(config)}`);
      }
    });
}

/**
 * `local-elb kind`'s own runtime and ELBv2 API: the load balancers and target groups of the
 * `--config` file run in a runtime beside the controller's stacks, and what the API creates
 * lives there too (with --no-elbv2-endpoint the file's still run). The controller's load
 * balancers and target groups are described by the API (and refused changes: they come from
 * the cluster). Returns the admin API's view of both; the directory of the runtime's target
 * groups with the ARNs the API shows (what a TargetGroupBinding names); the ARN of a stack's
 * group; and how to stop the API's part. The file's target groups and their ARNs are printed.
 */
export async function startElbv2ForKind(
  controllerView: ElbView & Pick<ManagedResources, 'loadBalancerFacts'>,
  where: { address: string; port: number } | false | undefined,
  logger: Logger,
  out: NodeJS.WritableStream,
  options: { readonly stateDir?: string; readonly config?: Config } = {},
): Promise<{ view: ElbView; directory: TargetGroupDirectory; targetGroupArn(name: string): string; close(): Promise<void> }> {
  const { ElbRuntime } = await import('../runtime/runtime.ts');
  const { configTargetGroupArn, LOCAL_VPC } = await import('../elbv2/catalog.ts');
  const { DEFAULT_ACCOUNT, DEFAULT_REGION } = await import('../elbv2/arns.ts');
  const own = new ElbRuntime({ config: options.config ?? {}, logger, metrics: controllerView.metrics, ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}) });
  await own.start();
  let endpoint: Elbv2Endpoint | undefined;
  try {
    endpoint = where === false ? undefined : await startElbv2ForCli(own, where, logger, out, controllerView, options.stateDir);
  } catch (err) {
    await own.close();
    throw err;
  }
  const defaults = endpoint?.api.catalog.defaults ?? { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION };
  const targetGroupArn = (name: string) => configTargetGroupArn(defaults, name);
  const directory: TargetGroupDirectory = {
    targetGroups: () =>
      own.targetGroups().map((group) => {
        const record = endpoint?.api.catalog.targetGroup(group);
        return { group, arn: record?.arn ?? targetGroupArn(group.name), ipAddressType: record?.ipAddressType ?? 'ipv4', vpcId: record?.vpcId ?? LOCAL_VPC };
      }),
  };
  for (const { group, arn } of directory.targetGroups()) out.write(`local-elb: target group ${group.name} (${group.config.targetType}, ${group.config.protocol}:${group.config.port}): ${arn}
`);
  for (const lb of own.loadBalancers()) out.write(`local-elb: ${lb.config.type === 'network' ? 'NLB' : 'ALB'} ${lb.name} on ${lb.config.listeners.map((_, i) => lb.url(i)).join(', ')}
`);
  const pick = <T>(first: () => T, second: () => T): T => {
    try {
      return first();
    } catch {
      return second();
    }
  };
  const view: ElbView = {
    metrics: controllerView.metrics,
    targetGroups: () => [...controllerView.targetGroups(), ...own.targetGroups()],
    targetGroup: (name) => pick(() => controllerView.targetGroup(name), () => own.targetGroup(name)),
    loadBalancers: () => [...controllerView.loadBalancers(), ...own.loadBalancers()],
    loadBalancer: (name) => pick(() => controllerView.loadBalancer(name), () => own.loadBalancer(name)),
  };
  return {
    view,
    directory,
    targetGroupArn,
    close: async () => {
      await endpoint?.close();
      await own.close();
    },
  };
}
