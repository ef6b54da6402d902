/**
 * The AWS Load Balancer Controller and the ELBs it provisions, for a local cluster: watches
 * Services, Ingresses, EndpointSlices, Pods, Nodes and Namespaces; runs one ElbRuntime per
 * Service (NLB) or Ingress group (ALB) on its own loopback address; registers and deregisters
 * targets from EndpointSlices through a TargetRegistrar per target group (the path local pods
 * use too); writes the address to the object's status (EXTERNAL-IP); sets readiness-gate
 * conditions from target health; reports what it cannot do as Events. HTTPS and TLS listeners
 * take certificates from the `certificates` files by ARN, and otherwise from the local CA (spec
 * 12.7). Gateway API Gateways of the `gateway.k8s.aws/alb` and `gateway.k8s.aws/nlb` classes get
 * an ALB or NLB the same way (gateway/: translation, statuses, watches; spec 15). Level-triggered:
 * every change re-reads the caches and applies the pure diff.
 */
import net from 'node:net';
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Ingress,
  type V1IngressClass,
  type V1Secret,
  type V1Namespace,
  type V1Node,
  type V1Pod,
  type V1PodCondition,
  type V1Service,
} from '@kubernetes/client-node';
import { ElbError, ErrorCodes, isElbError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { ElbMetrics } from '../core/metrics.ts';
import type { Random } from '../core/random.ts';
import { attributesWithoutLocalEffect, type CertificateConfig, type ConfigInput, type TrustStoreConfig } from '../config/schema.ts';
import { ElbRuntime, type ElbView } from '../runtime/runtime.ts';
import { TargetRegistrar } from '../runtime/registrar.ts';
import { realClock } from '../core/clock.ts';
import { ResilientInformer } from './informer.ts';
import { gateCondition, shapeSignature } from '../runtime/reconcile.ts';
import { listenerNames, type CertificateIssuer } from '../tls/certificates.ts';
import { localCaIssuer, localCertificateArn } from '../tls/provider.ts';
import { READINESS_GATE_PREFIX, translate, type ClusterSnapshot, type DesiredStack, type ObjectRef } from './translate.ts';
import { GatewayApiWatcher } from './gateway/watcher.ts';
import { CustomResourceInformer } from './crd-informer.ts';
import { ELBV2_GROUP, INGRESS_CLASS_PARAMS_KIND, type IngressClassParams } from './ingress-class-params.ts';
import { translateGateways } from './gateway/translate.ts';
import { TargetGroupBindingController, type TargetGroupDirectory } from './target-group-binding-controller.ts';

export interface KubernetesControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger?: Logger;
  /** The Service `spec.loadBalancerClass` this controller serves (default `service.k8s.aws/nlb`). */
  readonly loadBalancerClass?: string;
  /** Each load balancer gets its own address `<prefix>.<n>.<m>`; default `127.240` (all of 127/8 is local). */
  readonly addressPrefix?: string;
  /**
   * One address for every load balancer instead (in the cluster: the node's IP). Services then
   * share it, so two of them cannot use the same port.
   */
  readonly listenAddress?: string;
  /** Changes are applied at most this often (default 100 ms). */
  readonly debounceMs?: number;
  /** Readiness gates and statuses are re-checked this often without events (the controller's 15 s requeue). */
  readonly resyncMs?: number;
  readonly metrics?: ElbMetrics;
  /** Informer retry backoff (tests shorten it). */
  readonly watchBackoffMs?: { readonly min: number; readonly max: number };
  /**
   * The lags between an endpoint changing and the controller acting (spec 9.6): before
   * RegisterTargets and before DeregisterTargets (the load balancer keeps routing meanwhile).
   * Default 0 for both.
   */
  readonly propagation?: { readonly registrationDelayMs?: number; readonly deregistrationLagMs?: number };
  /**
   * How long a newly registered target stays `initial`/`Elb.RegistrationInProgress` before its
   * first health check (spec 1.3: NLB "a few minutes", observed ~120 s), per load balancer type,
   * for every target group of the stacks this controller makes; a target group's own
   * `emulator.registrationDelaySeconds` wins. Default 0 (checks start at once).
   */
  readonly registrationDelaySeconds?: { readonly application?: number; readonly network?: number };
  /**
   * Certificate ARNs mapped to PEM files (absolute paths), given to every load balancer: what
   * `certificate-arn` and `aws-load-balancer-ssl-cert` name. Other ARNs are issued by the local CA.
   */
  readonly certificates?: readonly CertificateConfig[];
  /** Trust stores (`local-elb kind --config`'s `trustStores:`) given to every load balancer: what `mutual-authentication` names. */
  readonly trustStores?: readonly TrustStoreConfig[];
  /** Where the local CA lives (default `$LOCAL_ELB_STATE_DIR`, else `~/.local-elb`). */
  readonly stateDir?: string;
  /** Issues the certificates no file provides (default: the local CA in `stateDir`). */
  readonly certificateIssuer?: CertificateIssuer;
  /** Weighted target group choice and the like in every load balancer (tests seed it). */
  readonly random?: Random;
  /** Target type of Gateway API backends without a TargetGroupConfiguration (the controller's `--default-target-type`, default `instance`). */
  readonly defaultTargetType?: 'instance' | 'ip';
  /**
   * The target groups outside the cluster's stacks that a user's TargetGroupBinding may name by
   * ARN or name (`local-elb kind --config` and the ELBv2 API's); none by default (spec 15.3.6).
   */
  readonly targetGroupDirectory?: TargetGroupDirectory;
  /**
   * The ARN the ELBv2 API shows for a target group of the stacks: the `spec.targetGroupARN` of
   * the TargetGroupBindings the controller keeps for them (spec 15.3.5). Without it none are kept.
   */
  readonly targetGroupArn?: (targetGroupName: string) => string;
}

interface RunningStack {
  readonly key: string;
  readonly signature: string;
  readonly elb: ElbRuntime;
  /** One per target group: applies the desired targets with the propagation lags. */
  readonly registrars: ReadonlyMap<string, TargetRegistrar>;
  readonly address: string;
  /** Service port → the port actually bound (differs only when a privileged port could not be bound). */
  readonly portMap: ReadonlyMap<number, number>;
  readonly unsubscribe: Array<() => void>;
  stack: DesiredStack;
}

const FIELD_MANAGER = 'local-elb';

const INVOLVED_API_VERSIONS: Readonly<Record<ObjectRef['kind'], string>> = {
  Service: 'v1',
  Ingress: 'networking.k8s.io/v1',
  Gateway: 'gateway.networking.k8s.io/v1',
  TargetGroupBinding: 'elbv2.k8s.aws/v1beta1',
};

export class KubernetesController {
  readonly #o: KubernetesControllerOptions;
  readonly #log: Logger;
  readonly #core: CoreV1Api;
  readonly metrics: ElbMetrics;
  readonly #informers: {
    services: ResilientInformer<V1Service>;
    endpointSlices: ResilientInformer<V1EndpointSlice>;
    pods: ResilientInformer<V1Pod>;
    nodes: ResilientInformer<V1Node>;
    namespaces: ResilientInformer<V1Namespace>;
    ingresses: ResilientInformer<V1Ingress>;
    ingressClasses: ResilientInformer<V1IngressClass>;
    /** The OIDC clients of auth-idp-oidc annotations (spec 13.2.9), as the controller reads them. */
    secrets: ResilientInformer<V1Secret>;
  };
  readonly #stacks = new Map<string, RunningStack>();
  /** Gateway API objects, when the cluster serves their CRDs. */
  readonly #gateway: GatewayApiWatcher;
  /** TargetGroupBindings, when the cluster serves their CRD (spec 15.3). */
  readonly #bindings: TargetGroupBindingController;
  /** IngressClassParams (spec 15.4), when the cluster serves the CRD. */
  readonly #ingressClassParams: CustomResourceInformer<IngressClassParams>;
  /** One CA for every load balancer, opened when the first certificate is issued. */
  readonly #issuer: CertificateIssuer;
  readonly #addresses = new Map<string, string>();
  readonly #eventsSent = new Set<string>();
  readonly #unreachableWarned = new Set<string>();
  /** Target groups whose first target was tried for reachability. */
  readonly #reachabilityChecked = new Set<string>();
  #nextAddress = 1;
  #timer: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #stopped = false;
  /** start() is waiting for the first lists: changes then schedule nothing (start reconciles after). */
  #syncing = false;
  #reconciles = 0;

  constructor(options: KubernetesControllerOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'k8s' });
    this.metrics = options.metrics ?? new ElbMetrics();
    this.#issuer = options.certificateIssuer ?? localCaIssuer(options.stateDir);
    const kc = options.kubeConfig;
    this.#core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const networking = kc.makeApiClient(NetworkingV1Api);
    const make = <T extends KubernetesObject>(path: string, list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>) =>
      new ResilientInformer<T>({
        kubeConfig: kc,
        path,
        list: list as never,
        logger: this.#log,
        onChange: () => this.schedule(),
        ...(options.watchBackoffMs ? { minBackoffMs: options.watchBackoffMs.min, maxBackoffMs: options.watchBackoffMs.max } : {}),
      });
    this.#informers = {
      services: make('/api/v1/services', () => this.#core.listServiceForAllNamespaces()),
      endpointSlices: make('/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces()),
      pods: make('/api/v1/pods', () => this.#core.listPodForAllNamespaces()),
      nodes: make('/api/v1/nodes', () => this.#core.listNode()),
      namespaces: make('/api/v1/namespaces', () => this.#core.listNamespace()),
      ingresses: make('/apis/networking.k8s.io/v1/ingresses', () => networking.listIngressForAllNamespaces()),
      ingressClasses: make('/apis/networking.k8s.io/v1/ingressclasses', () => networking.listIngressClass()),
      secrets: make('/api/v1/secrets', () => this.#core.listSecretForAllNamespaces()),
    };
    this.#gateway = new GatewayApiWatcher({
      kubeConfig: kc,
      logger: this.#log,
      onChange: () => this.schedule(),
      event: (ref, type, reason, message) => this.#event(ref, type, reason, message),
      fieldManager: FIELD_MANAGER,
      ...(options.watchBackoffMs ? { watchBackoffMs: options.watchBackoffMs } : {}),
    });
    this.#bindings = new TargetGroupBindingController({
      kubeConfig: kc,
      logger: this.#log,
      onChange: () => this.schedule(),
      event: (ref, type, reason, message) => this.#event(ref, type, reason, message),
      fieldManager: FIELD_MANAGER,
      ...(options.targetGroupDirectory ? { directory: options.targetGroupDirectory } : {}),
      ...(options.targetGroupArn ? { targetGroupArn: options.targetGroupArn } : {}),
      ...(options.propagation ? { propagation: options.propagation } : {}),
      ...(options.watchBackoffMs ? { watchBackoffMs: options.watchBackoffMs } : {}),
    });
    this.#ingressClassParams = new CustomResourceInformer<IngressClassParams>({
      kubeConfig: kc,
      logger: this.#log,
      group: ELBV2_GROUP,
      versions: ['v1beta1'],
      plural: 'ingressclassparams',
      kind: INGRESS_CLASS_PARAMS_KIND,
      onChange: () => this.schedule(),
      ...(options.watchBackoffMs ? { watchBackoffMs: options.watchBackoffMs } : {}),
    });
  }

  /** Starts the watches and applies the first state; resolves after that first reconcile (or, when a watch's first list failed, without it: the retry's list brings it). */
  async start(): Promise<void> {
    this.#stopped = false;
    // As a controller's caches sync before its first reconcile: the watches' first lists come in
    // at different times, and a reconcile between them would act on (and report) half a cluster.
    this.#syncing = true;
    try {
      await Promise.all([...Object.values(this.#informers).map((i) => i.start()), this.#gateway.start(), this.#bindings.start(), this.#ingressClassParams.start()]);
    } finally {
      this.#syncing = false;
    }
    await this.reconcileNow();
    const resyncMs = this.#o.resyncMs ?? 15_000;
    // Gateway API, TargetGroupBinding and IngressClassParams CRDs installed after start are picked up at a resync.
    this.#resync = setInterval(() => void Promise.all([this.#gateway.rediscover(), this.#bindings.rediscover(), this.#ingressClassParams.rediscover()]).finally(() => this.schedule()), resyncMs);
    this.#resync.unref();
  }

  /** Stops the watches and every load balancer this controller runs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#resync) clearInterval(this.#resync);
    await Promise.all([...Object.values(this.#informers).map((i) => i.stop()), this.#gateway.stop(), this.#bindings.stop(), this.#ingressClassParams.stop()]);
    await this.#running?.catch(() => {});
    for (const stack of [...this.#stacks.values()]) await this.#remove(stack, false);
  }

  /** The running load balancers, by stack key (`service/<ns>/<name>`, `ingress/<group>`). */
  stacks(): ReadonlyMap<string, { readonly elb: ElbRuntime; readonly address: string; readonly portMap: ReadonlyMap<number, number>; readonly stack: DesiredStack }> {
    return this.#stacks;
  }

  /**
   * Every running load balancer and target group as one view, for the admin API: the CLI verbs
   * (`describe-target-health --target-group-name k8s-…`) work against `local-elb kind` too.
   */
  view(): ElbView & { loadBalancerFacts(name: string): { scheme?: 'internal' | 'internet-facing'; ipAddressType?: string; tags?: Readonly<Record<string, string>> } | undefined } {
    const elbs = () => [...this.#stacks.values()].map((s) => s.elb);
    const find = <T>(pick: (elb: ElbRuntime) => T | undefined, what: string): T => {
      for (const elb of elbs()) {
        const found = pick(elb);
        if (found !== undefined) return found;
      }
      throw new ElbError(ErrorCodes.NOT_FOUND, `no ${what}`);
    };
    const tryGet = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch {
        return undefined;
      }
    };
    return {
      metrics: this.metrics,
      targetGroups: () => elbs().flatMap((e) => e.targetGroups()),
      targetGroup: (name) => find((e) => tryGet(() => e.targetGroup(name)), `target group named ${JSON.stringify(name)}`),
      loadBalancers: () => elbs().flatMap((e) => e.loadBalancers()),
      loadBalancer: (name) => find((e) => tryGet(() => e.loadBalancer(name)), `load balancer named ${JSON.stringify(name)}`),
      // An Ingress group's scheme, IP address type and tags, for the ELBv2 API (spec 15.4.2).
      loadBalancerFacts: (name) => {
        const stack = [...this.#stacks.values()].find((s) => s.elb.loadBalancers().some((lb) => lb.name === name))?.stack;
        if (stack === undefined) return undefined;
        return {
          ...(stack.scheme !== undefined ? { scheme: stack.scheme } : {}),
          ...(stack.ipAddressType !== undefined ? { ipAddressType: stack.ipAddressType } : {}),
          ...(stack.tags !== undefined ? { tags: stack.tags } : {}),
        };
      },
    };
  }

  /** How many times the watches were re-established after errors (all resources together). */
  get watchRestarts(): number {
    return Object.values(this.#informers).reduce((n, i) => n + i.restarts, 0) + this.#gateway.restarts + this.#bindings.restarts + this.#ingressClassParams.restarts;
  }

  get reconcileCount(): number {
    return this.#reconciles;
  }

  /** Asks for a reconcile soon (debounced). */
  schedule(): void {
    if (this.#stopped || this.#syncing) return;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reconcileNow().catch((err: unknown) => this.#log.error({ err }, 'reconcile failed'));
    }, this.#o.debounceMs ?? 100);
    this.#timer.unref?.();
  }

  /** Reconciles now; concurrent calls coalesce into one more run. */
  async reconcileNow(): Promise<void> {
    if (this.#running) {
      this.#dirty = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#dirty = false;
        try {
          await this.#reconcile();
        } catch (err) {
          this.#log.error({ err }, 'reconcile failed; will retry');
          this.#dirty = false;
          this.schedule();
        }
      } while (this.#dirty && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Every watch's cache has been filled by a list (IngressClassParams' only when the cluster serves it). */
  #cachesListed(): boolean {
    return Object.values(this.#informers).every((i) => i.listed) && (!this.#ingressClassParams.served || this.#ingressClassParams.listed);
  }

  #snapshot(): ClusterSnapshot {
    const i = this.#informers;
    return {
      services: i.services.list(),
      endpointSlices: i.endpointSlices.list(),
      pods: i.pods.list(),
      nodes: i.nodes.list(),
      namespaces: i.namespaces.list(),
      ingresses: i.ingresses.list(),
      ingressClasses: i.ingressClasses.list(),
      secrets: i.secrets.list(),
      ingressClassParams: this.#ingressClassParams.list(),
    };
  }

  async #reconcile(): Promise<void> {
    if (this.#stopped) return;
    // start() waits for each watch's first list attempt, and a failed one is retried after a
    // backoff: until every cache has listed once, an empty one is not the cluster (an Ingress
    // seen without its Service would be built, and reported, as a missing backend). The retry's
    // list asks for the reconcile that follows.
    if (!this.#cachesListed()) {
      this.#log.debug({ event: 'k8s.waiting_for_lists' }, 'not reconciling yet: a watch has not listed');
      return;
    }
    this.#reconciles++;
    const snapshot = this.#snapshot();
    const result = translate(snapshot, this.#o.loadBalancerClass ? { loadBalancerClass: this.#o.loadBalancerClass } : {});
    for (const r of result.rejected) {
      if (r.event !== undefined) await this.#event(r.ref, 'Warning', r.event.reason, r.event.message);
      else await this.#event(r.ref, 'Warning', 'LoadBalancerNotServed', `local-elb cannot serve this ${r.ref.kind}: ${r.reason}`);
    }
    const gatewayApi = this.#gateway.snapshot();
    const gateways = translateGateways(snapshot, gatewayApi, this.#o.defaultTargetType ? { defaultTargetType: this.#o.defaultTargetType } : {});
    const stacks = [...result.stacks, ...gateways.stacks];

    // A group whose model failed to build keeps its running load balancer as it was (spec 15.4.3).
    const wanted = new Set([...stacks.map((s) => s.key), ...result.rejected.flatMap((r) => (r.keepStack !== undefined ? [r.keepStack] : []))]);
    for (const running of [...this.#stacks.values()]) if (!wanted.has(running.key)) await this.#remove(running, true);

    for (const stack of stacks) {
      let running = this.#stacks.get(stack.key);
      const address = this.#addressFor(stack.key);
      const config = withRegistrationDelay(
        { ...withAddress(stack.config, address), certificates: [...(this.#o.certificates ?? [])], trustStores: [...(this.#o.trustStores ?? [])] },
        this.#o.registrationDelaySeconds?.[stack.type],
      );
      // The hosts an issued certificate covers are part of the shape: a new host means a new certificate.
      const signature = shapeSignature({ config, certificateHosts: stack.certificateHosts });
      if (running === undefined || running.signature !== signature) {
        if (running) await this.#remove(running, false);
        try {
          running = await this.#build(stack, config, signature, address);
        } catch (err) {
          const message = isElbError(err) ? err.message : String(err);
          for (const owner of stack.owners) await this.#event(owner, 'Warning', 'LoadBalancerFailed', `local-elb could not start the load balancer: ${message}`);
          this.#log.error({ event: 'k8s.stack_failed', stack: stack.key, err: message }, `cannot run ${stack.key}: ${message}`);
          continue;
        }
      }
      running.stack = stack;
      for (const problem of stack.problems) for (const owner of stack.owners) await this.#event(owner, 'Warning', 'UnsupportedConfiguration', problem);
      // Real AWS attributes with no local meaning are served, not refused (issue #13): say which.
      for (const a of attributesWithoutLocalEffect(running.elb.config)) {
        for (const owner of stack.owners) await this.#event(owner, 'Warning', 'AttributeWithoutLocalEffect', `attribute ${a.key}=${a.value} is accepted, with no local effect: ${a.why}`);
      }
      // Annotations whose meaning is AWS-side only (annotations.ts): read, and said once.
      for (const notice of stack.annotationNotices ?? []) {
        let sent = false;
        for (const owner of stack.owners) sent = (await this.#event(owner, 'Normal', 'AnnotationWithoutLocalEffect', notice)) || sent;
        if (sent) this.#log.info({ event: 'k8s.annotation_without_local_effect', stack: stack.key }, notice);
      }
      for (const notice of stack.paramsNotices ?? []) {
        let sent = false;
        for (const owner of stack.owners) sent = (await this.#event(owner, 'Normal', 'IngressClassParams', notice)) || sent;
        if (sent) this.#log.info({ event: 'k8s.ingress_class_params', stack: stack.key }, notice);
      }
      for (const notice of [...stack.notices, ...unmappedCertificateNotices(config, stack, address)]) {
        let sent = false;
        for (const owner of stack.owners) sent = (await this.#event(owner, 'Normal', 'LocalCertificate', notice)) || sent;
        if (sent) this.#log.info({ event: 'k8s.local_certificate', stack: stack.key }, notice);
      }
      this.#applyTargets(running);
      await this.#applyStatus(running, snapshot);
      await this.#applyReadinessGates(running, snapshot);
    }
    await this.#gateway.apply(
      gateways,
      (key) => {
        const running = this.#stacks.get(key);
        return running === undefined ? undefined : { running: true, address: running.address, loadBalancerName: running.elb.loadBalancers()[0]?.name, type: running.stack.type };
      },
      gatewayApi,
    );
    // Bindings for the stacks that run (a stack that failed to start has no target groups to bind).
    await this.#bindings.reconcile(
      snapshot,
      stacks.filter((s) => this.#stacks.has(s.key)),
    );
  }

  #addressFor(key: string): string {
    if (this.#o.listenAddress !== undefined) return this.#o.listenAddress;
    let address = this.#addresses.get(key);
    if (address === undefined) {
      const n = this.#nextAddress++;
      address = `${this.#o.addressPrefix ?? '127.240'}.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
      this.#addresses.set(key, address);
    }
    return address;
  }

  async #build(stack: DesiredStack, config: ConfigInput, signature: string, address: string): Promise<RunningStack> {
    // Issued certificates cover the Ingress hosts too (spec.tls hosts need not be rule hosts).
    const extraNames = listenerNames(address, stack.certificateHosts);
    const certificateIssuer: CertificateIssuer = (names) => this.#issuer([...new Set([...names, ...extraNames])]);
    const start = async (c: ConfigInput) => {
      const runtime = new ElbRuntime({ config: c, logger: this.#log, metrics: this.metrics, certificateIssuer, ...(this.#o.stateDir !== undefined ? { stateDir: this.#o.stateDir } : {}), ...(this.#o.random ? { random: this.#o.random } : {}) });
      await runtime.start();
      return runtime;
    };
    const listenerPorts = (config.loadBalancers?.[0]?.listeners ?? []).map((l) => l.port);
    const boundPorts = (runtime: ElbRuntime) => new Map(runtime.loadBalancers()[0]!.ports.map((bound, i) => [listenerPorts[i]!, bound]));
    let elb: ElbRuntime;
    try {
      elb = await start(config);
    } catch (err) {
      if (!(isElbError(err) && /EACCES/.test(err.message))) throw err;
      // Ports below 1024 need privileges: listen on free ports instead, and say so.
      elb = await start(withEphemeralPorts(config));
      const redirected = withRedirectsFollowing(config, boundPorts(elb));
      if (redirected !== undefined) {
        // An ssl-redirect to 443 must send clients where 443 now listens: start again on the
        // ports just bound, with the redirects rewritten (the ports were free a moment ago).
        await elb.close();
        elb = await start(redirected);
      }
      for (const owner of stack.owners) {
        await this.#event(owner, 'Warning', 'PrivilegedPort', `ports below 1024 need root or CAP_NET_BIND_SERVICE: listening on ${address} with other ports (the EnsuredLoadBalancer Event and the log name them: <wanted>→<bound>)`);
      }
    }
    const portMap = boundPorts(elb);
    const unsubscribe = elb.targetGroups().map((g) => g.on(() => this.schedule()));
    const lags = this.#o.propagation ?? {};
    const registrars = new Map(
      elb.targetGroups().map((group) => [
        group.name,
        new TargetRegistrar({
          group,
          clock: realClock,
          ...(lags.registrationDelayMs !== undefined ? { registrationDelayMs: lags.registrationDelayMs } : {}),
          ...(lags.deregistrationLagMs !== undefined ? { deregistrationLagMs: lags.deregistrationLagMs } : {}),
          applied: (action, target) => {
            this.#log.info({ event: `k8s.${action}`, targetGroup: group.name, target: `${target.id}:${target.port}` }, `${action === 'register' ? 'registered' : 'deregistered'} ${target.id}:${target.port} ${action === 'register' ? 'with' : 'from'} ${group.name}`);
            if (action === 'register') this.#checkReachable(group.name, target, stack);
          },
        }),
      ]),
    );
    const running: RunningStack = { key: stack.key, signature, elb, registrars, address, portMap, unsubscribe, stack };
    this.#stacks.set(stack.key, running);
    const ports = [...portMap].map(([want, got]) => (want === got ? `${got}` : `${want}→${got}`)).join(', ');
    const tags = Object.entries(stack.tags ?? {}).map(([k, v]) => `${k}=${v}`);
    this.#log.info(
      { event: 'k8s.load_balancer_started', stack: stack.key, address, ports, ...(tags.length > 0 ? { tags: stack.tags } : {}) },
      `${stack.type === 'network' ? 'NLB' : 'ALB'} for ${stack.key} on ${address} (ports ${ports})${tags.length > 0 ? ` tagged ${tags.join(', ')}` : ''}`,
    );
    for (const owner of stack.owners) await this.#event(owner, 'Normal', 'EnsuredLoadBalancer', `local-elb ${stack.type === 'network' ? 'NLB' : 'ALB'} listening on ${address} (ports ${ports})`);
    return running;
  }

  async #remove(running: RunningStack, clearStatus: boolean): Promise<void> {
    this.#stacks.delete(running.key);
    for (const u of running.unsubscribe) u();
    for (const registrar of running.registrars.values()) registrar.close();
    await running.elb.close();
    this.#log.info({ event: 'k8s.load_balancer_stopped', stack: running.key }, `stopped the load balancer for ${running.key}`);
    if (!clearStatus) return;
    // A Gateway's status is the Gateway API watcher's to write.
    for (const owner of running.stack.owners.filter((o) => o.kind !== 'Gateway')) {
      await this.#patchStatus(owner, { status: { loadBalancer: {} } }).catch(() => {});
    }
  }

  #applyTargets(running: RunningStack): void {
    for (const [tgName, desired] of Object.entries(running.stack.targets)) running.registrars.get(tgName)?.update(desired);
  }

  /**
   * Pod IPs of a kind cluster are reachable from the host only with a route to the pod network;
   * node IPs (instance targets) are. Say once which one the user needs.
   */
  #checkReachable(tgName: string, target: { id: string; port: number }, stack: DesiredStack): void {
    if (this.#reachabilityChecked.has(tgName)) return;
    this.#reachabilityChecked.add(tgName);
    const socket = net.connect({ host: target.id, port: target.port, timeout: 2000 });
    const verdict = (ok: boolean, why: string) => {
      socket.destroy();
      if (ok || this.#unreachableWarned.has(tgName)) return;
      this.#unreachableWarned.add(tgName);
      const message =
        `targets of ${tgName} (e.g. ${target.id}:${target.port}) are not reachable from this machine (${why}). ` +
        'For ip targets, add a route to the pod network through a node (for kind: `ip route add <pod CIDR> via <node IP>`) ' +
        'or run local-elb inside the cluster (deploy/kind/local-elb.yaml); instance targets (NodePort on node IPs) work from the host.';
      this.#log.warn({ event: 'k8s.targets_unreachable', targetGroup: tgName }, message);
      for (const owner of stack.owners) void this.#event(owner, 'Warning', 'TargetsUnreachable', message);
    };
    socket.once('connect', () => verdict(true, 'connected'));
    socket.once('timeout', () => verdict(false, 'connection timed out'));
    socket.once('error', (err: NodeJS.ErrnoException) => verdict(err.code === 'ECONNREFUSED', err.code ?? err.message));
  }

  async #applyStatus(running: RunningStack, snapshot: ClusterSnapshot): Promise<void> {
    for (const owner of running.stack.owners.filter((o) => o.kind !== 'Gateway')) {
      const current =
        owner.kind === 'Service'
          ? snapshot.services.find((s) => s.metadata?.namespace === owner.namespace && s.metadata?.name === owner.name)?.status?.loadBalancer?.ingress
          : snapshot.ingresses.find((s) => s.metadata?.namespace === owner.namespace && s.metadata?.name === owner.name)?.status?.loadBalancer?.ingress;
      if (current?.length === 1 && current[0]?.ip === running.address) continue;
      await this.#patchStatus(owner, { status: { loadBalancer: { ingress: [{ ip: running.address }] } } }).catch((err: unknown) =>
        this.#log.warn({ event: 'k8s.status_failed', owner, err: String(err) }, `could not set the status of ${owner.kind} ${owner.namespace}/${owner.name}`),
      );
    }
  }

  #patchStatus(owner: ObjectRef, body: object): Promise<unknown> {
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    if (owner.kind === 'Service') return this.#core.patchNamespacedServiceStatus({ name: owner.name, namespace: owner.namespace, body, fieldManager: FIELD_MANAGER }, options);
    return this.#o.kubeConfig.makeApiClient(NetworkingV1Api).patchNamespacedIngressStatus({ name: owner.name, namespace: owner.namespace, body, fieldManager: FIELD_MANAGER }, options);
  }

  /**
   * Pods that are targets of a group in a namespace with readiness-gate injection enabled and
   * that carry a `target-health.elbv2.k8s.aws/…` gate get that condition from their target's
   * health (spec 9.5), by strategic-merge patch so the kubelet's conditions stay.
   */
  async #applyReadinessGates(running: RunningStack, snapshot: ClusterSnapshot): Promise<void> {
    if (running.stack.readinessGateGroups.length === 0) return;
    const podTargets = new Map<string, Array<{ group: string; id: string; port: number }>>();
    for (const tgName of running.stack.readinessGateGroups) {
      for (const t of running.stack.targets[tgName] ?? []) {
        if (t.pod === undefined) continue;
        podTargets.set(t.pod, [...(podTargets.get(t.pod) ?? []), { group: tgName, id: t.id, port: t.port }]);
      }
    }
    for (const pod of snapshot.pods) {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType).filter((t) => t.startsWith(READINESS_GATE_PREFIX));
      const targets = podTargets.get(key);
      if (gates.length === 0 || targets === undefined || pod.metadata?.deletionTimestamp) continue;
      const conditions: V1PodCondition[] = [];
      for (const gate of gates) {
        const suffix = gate.slice(READINESS_GATE_PREFIX.length);
        const relevant = targets.some((t) => t.group === suffix) ? targets.filter((t) => t.group === suffix) : targets;
        const states = relevant.map((t) => gateCondition(running.elb.targetGroup(t.group).describeTargetHealth([{ id: t.id, port: t.port }])[0]?.targetHealth));
        const wanted = states.find((s) => s.status !== 'True') ?? states[0]!;
        const existing = pod.status?.conditions?.find((c) => c.type === gate);
        if (existing && existing.status === wanted.status && (existing.reason ?? '') === wanted.reason && (existing.message ?? '') === wanted.message) continue;
        conditions.push({
          type: gate,
          status: wanted.status,
          reason: wanted.reason,
          message: wanted.message,
          lastProbeTime: null as never,
          lastTransitionTime: (existing && existing.status === wanted.status ? existing.lastTransitionTime : new Date()) as Date,
        });
      }
      if (conditions.length === 0) continue;
      try {
        await this.#core.patchNamespacedPodStatus(
          { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { status: { conditions } }, fieldManager: FIELD_MANAGER },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
        this.#log.info({ event: 'k8s.readiness_gate', pod: key, conditions: conditions.map((c) => `${c.type}=${c.status}`) }, `pod ${key}: ${conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ')}`);
      } catch (err) {
        this.#log.warn({ event: 'k8s.readiness_gate_failed', pod: key, err: String(err) }, `could not patch the readiness gate of ${key}`);
      }
    }
  }

  /** Records a Kubernetes Event on the object, once per distinct message; true when it is new. */
  async #event(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<boolean> {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}/${reason}/${message}`;
    if (this.#eventsSent.has(key)) return false;
    this.#eventsSent.add(key);
    if (type === 'Warning') this.#log.warn({ event: 'k8s.event', object: `${ref.kind} ${ref.namespace}/${ref.name}`, reason }, `${ref.kind} ${ref.namespace}/${ref.name}: ${message}`);
    const now = new Date();
    try {
      await this.#core.createNamespacedEvent({
        namespace: ref.namespace,
        body: {
          metadata: { generateName: `${ref.name}.`, namespace: ref.namespace },
          involvedObject: { kind: ref.kind, namespace: ref.namespace, name: ref.name, apiVersion: INVOLVED_API_VERSIONS[ref.kind] },
          reason,
          message,
          type,
          source: { component: 'local-elb' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'could not record an Event');
    }
    return true;
  }
}

function withAddress(config: ConfigInput, address: string): ConfigInput {
  return {
    ...config,
    loadBalancers: (config.loadBalancers ?? []).map((lb) => ({ ...lb, listeners: lb.listeners.map((l) => ({ ...l, address })) })),
  };
}

/** Every target group's `emulator.registrationDelaySeconds`, unless it sets its own; the config as it is for none or 0. */
export function withRegistrationDelay(config: ConfigInput, seconds: number | undefined): ConfigInput {
  if (seconds === undefined || seconds === 0) return config;
  return {
    ...config,
    targetGroups: (config.targetGroups ?? []).map((tg) => ({ ...tg, emulator: { registrationDelaySeconds: seconds, ...tg.emulator } })),
  };
}

function withEphemeralPorts(config: ConfigInput): ConfigInput {
  return {
    ...config,
    loadBalancers: (config.loadBalancers ?? []).map((lb) => ({ ...lb, listeners: lb.listeners.map((l) => ({ ...l, port: l.port < 1024 ? 0 : l.port })) })),
  };
}

type ActionInput = NonNullable<NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number]['defaultActions']>[number];

/**
 * After privileged ports moved (`bound`: configured port → bound port): the config on the bound
 * ports, with every redirect to this load balancer (no other host) that names a moved port
 * pointing at where it listens now; undefined when no redirect names a moved port.
 */
export function withRedirectsFollowing(config: ConfigInput, bound: ReadonlyMap<number, number>): ConfigInput | undefined {
  const moved = new Map([...bound].filter(([want, got]) => want !== got).map(([want, got]) => [String(want), String(got)]));
  let rewritten = false;
  const follow = (action: ActionInput): ActionInput => {
    if (action.type !== 'redirect') return action;
    const { host, port } = action.redirectConfig;
    const to = port === undefined ? undefined : moved.get(port);
    if (to === undefined || (host !== undefined && host !== '#{host}')) return action;
    rewritten = true;
    return { ...action, redirectConfig: { ...action.redirectConfig, port: to } };
  };
  const out: ConfigInput = {
    ...config,
    loadBalancers: (config.loadBalancers ?? []).map((lb) => ({
      ...lb,
      listeners: lb.listeners.map((l) => ({
        ...l,
        port: bound.get(l.port) ?? l.port,
        ...(l.defaultActions ? { defaultActions: l.defaultActions.map(follow) } : {}),
        ...(l.rules ? { rules: l.rules.map((r) => ({ ...r, ...(r.actions ? { actions: r.actions.map(follow) } : {}) })) } : {}),
      })),
    })),
  };
  return rewritten ? out : undefined;
}

/**
 * What the log and a Normal Event say about certificate ARNs that no `certificates` file maps:
 * the local CA issues them (an Ingress without certificate-arn is told in translate).
 */
function unmappedCertificateNotices(config: ConfigInput, stack: DesiredStack, address: string): string[] {
  const files = new Set((config.certificates ?? []).map((c) => c.certificateArn));
  const notices: string[] = [];
  for (const lb of config.loadBalancers ?? []) {
    for (const l of lb.listeners) {
      for (const { certificateArn } of l.certificates ?? []) {
        if (files.has(certificateArn) || certificateArn === localCertificateArn(lb.name)) continue;
        const names = listenerNames(address, stack.certificateHosts);
        // An NLB has no rules, so no rule hosts to add.
        const ruleHosts = stack.type === 'application' ? " and the listener's host rules" : '';
        notices.push(
          `certificate ${certificateArn} (${l.protocol}:${l.port}) is not mapped to files in \`local-elb kind --config\`: local-elb's CA issues one for ${names.join(', ')}${ruleHosts} instead`,
        );
      }
    }
  }
  return notices;
}
