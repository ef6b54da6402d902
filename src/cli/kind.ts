/**
 * `local-elb kind`: the AWS Load Balancer Controller and its ELBs for a local cluster. Loaded
 * only when that command runs (the Kubernetes client takes about half a second to import).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { startAdminServer } from '../admin/server.ts';
import { loadKindConfig } from './kind-config.ts';
import { cliLogger, type LogFormat } from './log.ts';
import { runUntilSignal } from './run.ts';
import { startElbv2ForKind } from './elbv2.ts';
import { registrationDelays, type RegistrationDelays } from './kind-timing.ts';

export interface KindOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
  readonly addressPrefix: string;
  readonly listenAddress?: string;
  readonly loadBalancerClass: string;
  readonly config?: string;
  readonly admin: { address: string; port: number } | false;
  /** The ELBv2 API (issue #15): false for none; undefined for 127.0.0.1:4566 when it is free. */
  readonly elbv2Endpoint?: { address: string; port: number } | false;
  readonly logLevel: string;
  readonly logFormat: LogFormat;
  readonly stateDir?: string;
  /** `--registration-delay`: seconds per load balancer type (kind-timing.ts). */
  readonly registrationDelay?: RegistrationDelays;
  /** `--aws-timing`: the AWS-like preset, under `registrationDelay`. */
  readonly awsTiming?: boolean;
}

/** The service-account token a pod has; `@kubernetes/client-node` falls back to it. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Which kubeconfig files `kind` reads, or the error that says where it looked: without one,
 * the Kubernetes client would quietly talk to http://localhost:8080 (often something else).
 * Pure but for `exists`; `env` and `home` are the process's by default.
 */
export function kubeconfigFiles(
  given: string | undefined,
  { env = process.env, home = homedir(), exists = existsSync }: { env?: NodeJS.ProcessEnv; home?: string; exists?: (path: string) => boolean } = {},
): { files: string[] } | { inCluster: true } {
  if (given !== undefined) {
    if (!exists(given)) throw new ElbError(ErrorCodes.KUBECONFIG_NOT_FOUND, `--kubeconfig ${given}: no such file`);
    return { files: [given] };
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  const candidates = fromEnv.length > 0 ? fromEnv : [join(home, '.kube', 'config')];
  const found = candidates.filter((p) => exists(p));
  if (found.length > 0) return { files: found };
  if (env.KUBERNETES_SERVICE_HOST !== undefined && exists(SERVICE_ACCOUNT_TOKEN)) return { inCluster: true };
  const looked = fromEnv.length > 0 ? `$KUBECONFIG (${fromEnv.join(delimiter)})` : `$KUBECONFIG (not set) and ${candidates[0]}`;
  throw new ElbError(
    ErrorCodes.KUBECONFIG_NOT_FOUND,
    `no kubeconfig: looked at ${looked}, and this is not a pod; create a cluster (kind create cluster), or give --kubeconfig FILE (kind get kubeconfig --name NAME > FILE)`,
  );
}

export async function kind(opts: KindOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!/^\d{1,3}\.\d{1,3}$/.test(opts.addressPrefix)) {
    throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--address-prefix must be two numbers like 127.240: got ${JSON.stringify(opts.addressPrefix)}`);
  }
  const source = opts.inCluster ? { inCluster: true as const } : kubeconfigFiles(opts.kubeconfig);
  const logger = cliLogger(opts.logLevel, opts.logFormat);
  const kindConfig = opts.config === undefined ? undefined : await loadKindConfig(opts.config);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { KubernetesController } = await import('../k8s/controller.ts');
  const kubeConfig = new KubeConfig();
  if ('inCluster' in source) kubeConfig.loadFromCluster();
  else if (source.files.length === 1) kubeConfig.loadFromFile(source.files[0]!);
  else kubeConfig.loadFromDefault();
  if (opts.context) kubeConfig.setCurrentContext(opts.context);
  // The config file's target groups (and the ELBv2 API's) are what user TargetGroupBindings
  // name: they run before the controller's first reconcile.
  let elbv2: Awaited<ReturnType<typeof startElbv2ForKind>> | undefined;
  const delays = registrationDelays(opts);
  const controller = new KubernetesController({
    kubeConfig,
    logger,
    addressPrefix: opts.addressPrefix,
    loadBalancerClass: opts.loadBalancerClass,
    ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
    ...(kindConfig ? { certificates: kindConfig.certificates, trustStores: kindConfig.trustStores } : {}),
    ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
    targetGroupDirectory: { targetGroups: () => elbv2?.directory.targetGroups() ?? [] },
    targetGroupArn: (name) => elbv2!.targetGroupArn(name),
    registrationDelaySeconds: delays,
  });
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  try {
    elbv2 = await startElbv2ForKind(controller.view(), opts.elbv2Endpoint, logger, out, {
      ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
      ...(kindConfig ? { config: kindConfig.elb } : {}),
    });
    await controller.start();
    if (opts.admin !== false) admin = await startAdminServer(elbv2.view, { ...opts.admin, logger });
  } catch (err) {
    await elbv2?.close();
    await controller.stop();
    throw err;
  }
  runUntilSignal(async () => {
    await admin?.close();
    await elbv2?.close();
    await controller.stop();
  }, (m) => logger.info(m));
  out.write(`local-elb: watching ${kubeConfig.getCurrentCluster()?.server ?? 'the cluster'}; ${controller.stacks().size} load balancers\n`);
  if (delays.application > 0 || delays.network > 0) {
    out.write(`local-elb: new targets register in ${delays.network} s on NLBs, ${delays.application} s on ALBs (Elb.RegistrationInProgress, then health checks)\n`);
  }
  if (admin) out.write(`local-elb: admin API on ${admin.url}\n`);
  if (admin) out.write(`local-elb: dashboard on ${admin.dashboardUrl}\n`);
}
