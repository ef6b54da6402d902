/**
 * The Gateway API side of the controller's I/O: finds which Gateway API and LBC Gateway CRDs
 * the cluster serves (the controller turns its Gateway support off when they are missing, spec
 * 15.0.1), watches them with the same ResilientInformer as every other resource, and writes the
 * statuses `status.ts` decides (merge patches of the status subresource) and the Events the
 * translation asks for. Everything it reads comes back through `snapshot()`.
 */
import { ApisApi, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../core/logger.ts';
import { ResilientInformer } from '../informer.ts';
import type { ObjectRef } from '../translate.ts';
import { EMPTY_GATEWAY_API, GATEWAY_API_GROUP, keyOf, LBC_GATEWAY_GROUP, nameOf, type GatewayApiSnapshot, type GatewayObject, type RouteKind } from './model.ts';
import { gatewayClassStatus, gatewayStatus, routeStatus, type GatewayRuntimeFacts } from './status.ts';
import type { GatewayTranslation, RouteStatusOutcome } from './translate.ts';

interface ResourceSpec {
  readonly field: keyof GatewayApiSnapshot;
  readonly group: string;
  /** Versions in the order the controller prefers them (the newest it knows first). */
  readonly versions: readonly string[];
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const GATEWAY_RESOURCES: readonly ResourceSpec[] = [
  { field: 'gatewayClasses', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], plural: 'gatewayclasses', kind: 'GatewayClass', namespaced: false },
  { field: 'gateways', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], plural: 'gateways', kind: 'Gateway', namespaced: true },
  { field: 'httpRoutes', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], plural: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  { field: 'grpcRoutes', group: GATEWAY_API_GROUP, versions: ['v1', 'v1alpha2'], plural: 'grpcroutes', kind: 'GRPCRoute', namespaced: true },
  { field: 'tcpRoutes', group: GATEWAY_API_GROUP, versions: ['v1', 'v1alpha2'], plural: 'tcproutes', kind: 'TCPRoute', namespaced: true },
  { field: 'udpRoutes', group: GATEWAY_API_GROUP, versions: ['v1', 'v1alpha2'], plural: 'udproutes', kind: 'UDPRoute', namespaced: true },
  { field: 'tlsRoutes', group: GATEWAY_API_GROUP, versions: ['v1', 'v1alpha3', 'v1alpha2'], plural: 'tlsroutes', kind: 'TLSRoute', namespaced: true },
  { field: 'referenceGrants', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true },
  { field: 'loadBalancerConfigurations', group: LBC_GATEWAY_GROUP, versions: ['v1', 'v1beta1'], plural: 'loadbalancerconfigurations', kind: 'LoadBalancerConfiguration', namespaced: true },
  { field: 'targetGroupConfigurations', group: LBC_GATEWAY_GROUP, versions: ['v1', 'v1beta1'], plural: 'targetgroupconfigurations', kind: 'TargetGroupConfiguration', namespaced: true },
];

/** Discovery through the client's own API-resource lookup (a fresh cache per round). */
class Discovery extends KubernetesObjectApi {
  async served(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.resource(apiVersion, kind)) !== undefined;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 404) return false;
      throw err;
    }
  }
}

export interface GatewayApiWatcherOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly onChange: () => void;
  /** Records an Event on an object (the controller's, deduplicated); resolves true when new. */
  readonly event: (ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string) => Promise<boolean>;
  readonly watchBackoffMs?: { readonly min: number; readonly max: number };
  readonly fieldManager: string;
}

interface Watched {
  readonly spec: ResourceSpec;
  readonly version: string;
  readonly informer: ResilientInformer<KubernetesObject>;
}

const ROUTE_FIELDS: Readonly<Record<RouteKind, keyof GatewayApiSnapshot>> = {
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TCPRoute: 'tcpRoutes',
  UDPRoute: 'udpRoutes',
  TLSRoute: 'tlsRoutes',
};

export class GatewayApiWatcher {
  readonly #options: GatewayApiWatcherOptions;
  readonly #custom: CustomObjectsApi;
  readonly #watched = new Map<keyof GatewayApiSnapshot, Watched>();
  #stopped = false;
  #discovering: Promise<void> | undefined;
  /** Snapshots taken when every watch had listed: only those may write Events and statuses. */
  readonly #complete = new WeakSet<GatewayApiSnapshot>();
  #lastComplete: GatewayApiSnapshot | undefined;
  /** The last discovery failed part way: a kind the cluster serves may be missing from the watches. */
  #partial = false;

  constructor(options: GatewayApiWatcherOptions) {
    this.#options = options;
    this.#custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The Gateway API kinds being watched, with the version served (`Gateway` → `gateway.networking.k8s.io/v1`). */
  get served(): ReadonlyMap<string, string> {
    return new Map([...this.#watched.values()].map((w) => [w.spec.kind, `${w.spec.group}/${w.version}`]));
  }

  get restarts(): number {
    return [...this.#watched.values()].reduce((n, w) => n + w.informer.restarts, 0);
  }

  /** Finds the served CRDs and starts their watches; resolves after their first lists. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.rediscover();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#discovering?.catch(() => {});
    await Promise.all([...this.#watched.values()].map((w) => w.informer.stop()));
  }

  /** Looks again for CRDs not yet watched (installed after start); cheap when all are. */
  rediscover(): Promise<void> {
    if (this.#stopped || this.#watched.size === GATEWAY_RESOURCES.length) return Promise.resolve();
    this.#discovering ??= this.#discover().finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  async #discover(): Promise<void> {
    const discovery = this.#options.kubeConfig.makeApiClient(Discovery);
    const started: Array<Promise<void>> = [];
    // One request when the cluster serves neither group (most resyncs of most clusters).
    let served: Set<string>;
    try {
      const groups = await this.#options.kubeConfig.makeApiClient(ApisApi).getAPIVersions();
      served = new Set(groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion)));
    } catch (err) {
      this.#options.logger.debug({ err: String(err) }, 'API discovery failed; trying again at the next resync');
      this.#partial = true;
      return;
    }
    for (const spec of GATEWAY_RESOURCES) {
      if (this.#watched.has(spec.field)) continue;
      let version: string | undefined;
      try {
        for (const v of spec.versions) {
          if (served.has(`${spec.group}/${v}`) && (await discovery.served(`${spec.group}/${v}`, spec.kind))) {
            version = v;
            break;
          }
        }
      } catch (err) {
        this.#options.logger.debug({ err: String(err), kind: spec.kind }, 'Gateway API discovery failed; trying again at the next resync');
        this.#partial = true;
        await Promise.all(started);
        return;
      }
      if (version === undefined || this.#stopped) continue;
      const path = `/apis/${spec.group}/${version}/${spec.plural}`;
      const list = () => this.#custom.listClusterCustomObject({ group: spec.group, version: version!, plural: spec.plural });
      const informer = new ResilientInformer<KubernetesObject>({
        kubeConfig: this.#options.kubeConfig,
        path,
        list,
        logger: this.#options.logger,
        onChange: this.#options.onChange,
        ...(this.#options.watchBackoffMs ? { minBackoffMs: this.#options.watchBackoffMs.min, maxBackoffMs: this.#options.watchBackoffMs.max } : {}),
      });
      this.#watched.set(spec.field, { spec, version, informer });
      this.#options.logger.info({ event: 'k8s.gateway_api_watch', kind: spec.kind, apiVersion: `${spec.group}/${version}` }, `watching ${spec.kind} (${spec.group}/${version})`);
      started.push(informer.start());
    }
    await Promise.all(started);
    this.#partial = false;
  }

  /**
   * Every watched object; kinds the cluster does not serve are empty. A snapshot is complete when
   * no discovery is under way and every watch has listed; until the next complete one, the last
   * complete snapshot is what is answered, so a discovery or first list in progress (a
   * TargetGroupConfiguration not yet seen beside its Gateway) never builds, and never reports,
   * a half-read cluster.
   */
  snapshot(): GatewayApiSnapshot {
    const out: Record<string, readonly unknown[]> = { ...EMPTY_GATEWAY_API };
    for (const [field, w] of this.#watched) out[field] = w.informer.list();
    const snapshot = out as unknown as GatewayApiSnapshot;
    if (this.#discovering === undefined && !this.#partial && [...this.#watched.values()].every((w) => w.informer.listed)) {
      this.#complete.add(snapshot);
      this.#lastComplete = snapshot;
      return snapshot;
    }
    return this.#lastComplete ?? snapshot;
  }

  /**
   * Writes what the translation decided: Events, then GatewayClass, Gateway and route statuses
   * (only those that changed). `facts` says how each built Gateway's load balancer runs.
   */
  async apply(translation: GatewayTranslation, facts: (stackKey: string) => (GatewayRuntimeFacts & { type: 'application' | 'network' }) | undefined, snapshot: GatewayApiSnapshot): Promise<void> {
    // A reconcile during start may see Gateways before their TargetGroupConfigurations: what it
    // decided is not said until every watch has listed (the next reconcile follows).
    if (!this.#complete.has(snapshot)) return;
    // The controller's Event recorder logs Warnings itself.
    for (const e of translation.events) await this.#options.event(e.ref, e.type, e.reason, e.message);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const outcome of translation.classes) {
      const gc = snapshot.gatewayClasses.find((c) => nameOf(c) === outcome.name);
      const status = gc === undefined ? undefined : gatewayClassStatus(gc, outcome, now);
      if (status !== undefined) await this.#patchStatus('gatewayClasses', undefined, outcome.name, status);
    }
    for (const outcome of translation.gateways) {
      const gw = snapshot.gateways.find((g) => keyOf(g) === `${outcome.ref.namespace}/${outcome.ref.name}`);
      if (gw === undefined) continue;
      const f = outcome.stackKey === undefined ? undefined : facts(outcome.stackKey);
      const status = gatewayStatus(gw, outcome, f, f?.type ?? (outcome.controllerName === 'gateway.k8s.aws/alb' ? 'application' : 'network'), now);
      if (status !== undefined) await this.#patchStatus('gateways', outcome.ref.namespace, outcome.ref.name, status);
      if (f?.running === true) await this.#options.event(outcome.ref, 'Normal', 'SuccessfullyReconciled', 'Successfully reconciled');
    }
    const byRoute = new Map<string, RouteStatusOutcome[]>();
    for (const o of translation.routes) byRoute.set(o.route.id, [...(byRoute.get(o.route.id) ?? []), o]);
    for (const outcomes of byRoute.values()) {
      const { kind, namespace, name } = outcomes[0]!.route;
      const route = (snapshot[ROUTE_FIELDS[kind]] as readonly GatewayObject[]).find((r) => keyOf(r) === `${namespace}/${name}`);
      if (route === undefined) continue;
      const status = routeStatus(route as never, outcomes, now);
      if (status !== undefined) await this.#patchStatus(ROUTE_FIELDS[kind], namespace, name, status);
    }
  }

  async #patchStatus(field: keyof GatewayApiSnapshot, namespace: string | undefined, name: string, status: unknown): Promise<void> {
    const w = this.#watched.get(field);
    if (w === undefined) return;
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const common = { group: w.spec.group, version: w.version, plural: w.spec.plural, name, body: { status }, fieldManager: this.#options.fieldManager };
    try {
      if (namespace === undefined) await this.#custom.patchClusterCustomObjectStatus(common, options);
      else await this.#custom.patchNamespacedCustomObjectStatus({ ...common, namespace }, options);
      this.#options.logger.debug({ event: 'k8s.gateway_status', kind: w.spec.kind, object: namespace === undefined ? name : `${namespace}/${name}` }, `status of ${w.spec.kind} ${namespace === undefined ? name : `${namespace}/${name}`} updated`);
    } catch (err) {
      this.#options.logger.warn({ event: 'k8s.status_failed', kind: w.spec.kind, object: `${namespace ?? ''}/${name}`, err: String(err) }, `could not set the status of ${w.spec.kind} ${namespace === undefined ? name : `${namespace}/${name}`}`);
    }
  }
}
