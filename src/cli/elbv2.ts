/**
 * The CLI's side of the ELBv2 API (issue #15): `--elbv2-endpoint HOST:PORT` and
 * `--no-elbv2-endpoint` for `serve`, starting the endpoint beside the admin API, and
 * `local-elb export`, which prints the running state as a config file. Kept apart from
 * main.ts so the commands' surface there stays one line each.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from '../core/logger.ts';
import type { ElbRuntime, ElbView } from '../runtime/runtime.ts';
import type { ManagedResources } from '../elbv2/api.ts';

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
): Promise<{ close(): Promise<void> } | undefined> {
  if (where === false) return undefined;
  const { startElbv2Endpoint } = await import('../elbv2/server.ts');
  const { isElbError, ErrorCodes } = await import('../core/errors.ts');
  let endpoint;
  try {
    endpoint = await startElbv2Endpoint(runtime, { ...(where ?? DEFAULT_ELBV2_ENDPOINT), logger, ...(managed ? { managed } : {}) });
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
 * `local-elb kind`'s ELBv2 API: the controller's load balancers and target groups are described
 * (and refused changes: they come from the cluster), and what the API creates lives in a runtime
 * of its own beside them. Returns the admin API's view of both, and how to stop the API's part.
 */
export async function startElbv2ForKind(
  controllerView: ElbView & Pick<ManagedResources, 'loadBalancerFacts'>,
  where: { address: string; port: number } | false | undefined,
  logger: Logger,
  out: NodeJS.WritableStream,
  options: { readonly stateDir?: string } = {},
): Promise<{ view: ElbView; close(): Promise<void> }> {
  if (where === false) return { view: controllerView, close: async () => {} };
  const { ElbRuntime } = await import('../runtime/runtime.ts');
  const own = new ElbRuntime({ config: {}, logger, metrics: controllerView.metrics, ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}) });
  await own.start();
  const endpoint = await startElbv2ForCli(own, where, logger, out, controllerView);
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
    close: async () => {
      await endpoint?.close();
      await own.close();
    },
  };
}
