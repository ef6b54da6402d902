/**
 * The TargetGroupBinding controller's I/O (spec 15.3): finds whether the cluster serves the
 * `elbv2.k8s.aws` TargetGroupBinding CRD (no watch without it; looked for again at each resync,
 * as the Gateway API is), watches it, and applies what ./target-group-binding.ts decides.
 *
 * User bindings (no stack labels): the webhook back-fill is written at the first reconcile (a
 * merge patch of the spec), the validating rules refuse with a Warning Event, the target group
 * is found by ARN among the groups `local-elb kind` runs beside the cluster (its config file and
 * the ELBv2 API's), the finalizer `elbv2.k8s.aws/resources` is added first, the Service's
 * endpoints are registered through a TargetRegistrar (the stacks' propagation lags) with full
 * ownership of the group's membership, readiness gates that name the binding are set, and
 * `status.observedGeneration` follows each successful reconcile. Deletion deregisters every
 * target (they drain per the group's deregistration delay), sets the gates True "Target Group
 * Binding is deleted" and removes the finalizer; the target group itself is never deleted.
 *
 * Controller-made bindings (for the target groups of Service, Ingress and Gateway stacks) are
 * kept in step with the stacks: created, patched and deleted, `status.observedGeneration`
 * current, no ownerReferences (15.3.5). They reflect the stacks' registration rather than drive
 * it: the stack's own registrars register those targets (README, "TargetGroupBinding").
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { realClock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { TargetRegistrar } from '../runtime/registrar.ts';
import { gateCondition } from '../runtime/reconcile.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import { CustomResourceInformer } from './crd-informer.ts';
import {
  backfill,
  bindingGateConditions,
  bindingProblem,
  bindingTargets,
  changedImmutableFields,
  controllerBindings,
  diffControllerBindings,
  immutableMessage,
  isControllerMade,
  parseTrackedTargets,
  trackedTargetsConfigMap,
  trackedTargetsCsv,
  TGB_FINALIZER,
  TGB_GROUP,
  TGB_KIND,
  TGB_PLURAL,
  TGB_VERSIONS,
  type BoundTargetGroup,
  type ControllerBinding,
  type TargetGroupBinding,
  type TargetGroupBindingSpec,
} from './target-group-binding.ts';
import type { ClusterSnapshot, DesiredStack, DesiredTarget, ObjectRef } from './translate.ts';

/**
 * The target groups outside the controller's stacks that a user's binding may name: under
 * `local-elb kind`, those of its config file and those the ELBv2 API created. Read at every
 * reconcile (groups come and go through the API).
 */
export interface TargetGroupDirectory {
  targetGroups(): ReadonlyArray<{ readonly group: TargetGroup; readonly arn: string; readonly ipAddressType: string; readonly vpcId: string }>;
}

export interface TargetGroupBindingControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly onChange: () => void;
  readonly event: (ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string) => Promise<boolean>;
  readonly fieldManager: string;
  readonly directory?: TargetGroupDirectory;
  /** The ARN the ELBv2 API shows for a group of the stacks; without it no controller-made bindings are kept. */
  readonly targetGroupArn?: (name: string) => string;
  readonly propagation?: { readonly registrationDelayMs?: number; readonly deregistrationLagMs?: number };
  readonly watchBackoffMs?: { readonly min: number; readonly max: number };
}

interface Binding {
  readonly uid: string;
  readonly group: TargetGroup;
  readonly registrar: TargetRegistrar;
  /** Stops listening to the group's health changes (which re-run the reconcile: readiness gates follow at once). */
  readonly unsubscribe: () => void;
  /** The spec the webhook admitted: immutable fields are checked against it. */
  admitted: TargetGroupBindingSpec;
  targets: readonly DesiredTarget[];
  /** `multiClusterTargetGroup`: what the ConfigMap records (undefined until read or written). */
  tracked?: Set<string>;
}

const keyOfTarget = (t: { id: string; port: number }) => `${t.id}:${t.port}`;
const refOf = (o: KubernetesObject): ObjectRef => ({ kind: TGB_KIND, namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '' });

function closeBinding(binding: Binding): void {
  binding.registrar.close();
  binding.unsubscribe();
}

export class TargetGroupBindingController {
  readonly #o: TargetGroupBindingControllerOptions;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  /** The bindings, when the cluster serves the CRD (v1beta1, else v1alpha1). */
  readonly #informer: CustomResourceInformer<TargetGroupBinding>;
  #stopped = false;
  /** User bindings being served, by uid. */
  readonly #bindings = new Map<string, Binding>();
  #networkingSaid = new Set<string>();

  constructor(options: TargetGroupBindingControllerOptions) {
    this.#o = options;
    this.#custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#informer = new CustomResourceInformer<TargetGroupBinding>({
      kubeConfig: options.kubeConfig,
      logger: options.logger,
      group: TGB_GROUP,
      versions: TGB_VERSIONS,
      plural: TGB_PLURAL,
      kind: TGB_KIND,
      onChange: options.onChange,
      ...(options.watchBackoffMs ? { watchBackoffMs: options.watchBackoffMs } : {}),
    });
  }

  /** The version the bindings are watched in (v1beta1, else v1alpha1); undefined without the CRD. */
  get #version(): string | undefined {
    return this.#informer.version;
  }

  /** `elbv2.k8s.aws/v1beta1` when watched, else undefined (the CRD is not served). */
  get apiVersion(): string | undefined {
    return this.#version === undefined ? undefined : `${TGB_GROUP}/${this.#version}`;
  }

  get restarts(): number {
    return this.#informer.restarts;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#informer.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#informer.stop();
    for (const b of this.#bindings.values()) closeBinding(b);
    this.#bindings.clear();
  }

  /** Looks for the CRD when it is not watched yet (installed after start); cheap once it is. */
  rediscover(): Promise<void> {
    return this.#informer.rediscover();
  }

  /** One pass over every binding: the controller's for `stacks` (those running), then the user's. */
  async reconcile(snapshot: ClusterSnapshot, stacks: readonly DesiredStack[]): Promise<void> {
    if (!this.#informer.listed || this.#stopped) return;
    const all = [...this.#informer.list()];
    await this.#reconcileControllerMade(stacks, all);
    const seen = new Set<string>();
    for (const tgb of all) {
      if (isControllerMade(tgb)) continue;
      const uid = tgb.metadata?.uid ?? `${tgb.metadata?.namespace}/${tgb.metadata?.name}`;
      seen.add(uid);
      try {
        if (tgb.metadata?.deletionTimestamp) await this.#cleanup(tgb, uid, snapshot);
        else await this.#reconcileUser(tgb, uid, all, snapshot);
      } catch (err) {
        await this.#o.event(refOf(tgb), 'Warning', 'FailedReconcile', `Failed reconcile due to ${String((err as Error).message ?? err)}`);
      }
    }
    for (const [uid, b] of this.#bindings) {
      if (seen.has(uid)) continue;
      // Gone without the finalizer's clean-up (removed by hand): stop applying, touch nothing.
      closeBinding(b);
      this.#bindings.delete(uid);
    }
  }

  // ------------------------------------------------------------------ user bindings

  #directory(): Array<{ group: TargetGroup; described: BoundTargetGroup }> {
    return (this.#o.directory?.targetGroups() ?? []).map((e) => ({
      group: e.group,
      described: { arn: e.arn, name: e.group.name, targetType: e.group.config.targetType, ipAddressType: e.ipAddressType, protocol: e.group.config.protocol, vpcId: e.vpcId },
    }));
  }

  async #reconcileUser(tgb: TargetGroupBinding, uid: string, all: readonly TargetGroupBinding[], snapshot: ClusterSnapshot): Promise<void> {
    const ref = refOf(tgb);
    const directory = this.#directory();
    const spec = tgb.spec ?? {};
    const known = this.#bindings.get(uid);
    if (known === undefined) {
      // The mutating webhook runs on create only: at the first reconcile of this binding.
      const filled = backfill(spec, {
        byArn: (arn) => directory.find((e) => e.described.arn === arn)?.described,
        byName: (name) => directory.find((e) => e.described.name === name)?.described,
      });
      if (filled !== undefined && 'error' in filled) {
        await this.#o.event(ref, 'Warning', 'FailedReconcile', `admission webhook "mtargetgroupbinding.elbv2.k8s.aws" denied the request: ${filled.error}`);
        return;
      }
      if (filled !== undefined) {
        await this.#patch(tgb, { spec: filled.patch });
        this.#o.logger.info({ event: 'k8s.tgb_backfilled', binding: `${ref.namespace}/${ref.name}`, fields: Object.keys(filled.patch) }, `TargetGroupBinding ${ref.namespace}/${ref.name}: set ${Object.entries(filled.patch).map(([k, v]) => `spec.${k}=${String(v)}`).join(', ')}`);
        return; // the watch brings the patched object back
      }
    }
    const problem = bindingProblem(tgb, all);
    if (problem !== undefined) {
      await this.#o.event(ref, 'Warning', 'FailedReconcile', `admission webhook "vtargetgroupbinding.elbv2.k8s.aws" denied the request: ${problem}`);
      return;
    }
    let effective: TargetGroupBindingSpec = spec;
    if (known !== undefined) {
      const changed = changedImmutableFields(known.admitted, spec);
      if (changed.length > 0) {
        await this.#o.event(ref, 'Warning', 'FailedReconcile', `admission webhook "vtargetgroupbinding.elbv2.k8s.aws" denied the request: ${immutableMessage(changed)} (the admitted spec stays in effect)`);
        effective = { ...spec, targetGroupARN: known.admitted.targetGroupARN!, targetType: known.admitted.targetType! };
        if (known.admitted.ipAddressType !== undefined) effective.ipAddressType = known.admitted.ipAddressType;
        if (known.admitted.vpcID !== undefined) effective.vpcID = known.admitted.vpcID;
      }
    }
    const entry = directory.find((e) => e.described.arn === effective.targetGroupARN);
    if (entry === undefined) {
      await this.#o.event(ref, 'Warning', 'FailedReconcile', `Failed reconcile due to TargetGroupNotFound: Target groups '${effective.targetGroupARN}' not found`);
      return;
    }
    if (!(tgb.metadata?.finalizers ?? []).includes(TGB_FINALIZER)) {
      try {
        await this.#patch(tgb, { metadata: { finalizers: [...(tgb.metadata?.finalizers ?? []), TGB_FINALIZER] } });
      } catch (err) {
        await this.#o.event(ref, 'Warning', 'FailedAddFinalizer', `Failed add finalizer due to ${String((err as Error).message ?? err)}`);
        return;
      }
    }
    if (effective.networking !== undefined && effective.networking !== null && !this.#networkingSaid.has(uid)) {
      this.#networkingSaid.add(uid);
      const message = 'spec.networking is accepted with no local effect: it manages security-group rules, and local-elb has no security groups (every target is reachable)';
      this.#o.logger.info({ event: 'k8s.tgb_networking', binding: `${ref.namespace}/${ref.name}` }, `TargetGroupBinding ${ref.namespace}/${ref.name}: ${message}`);
      await this.#o.event(ref, 'Normal', 'NetworkingWithoutLocalEffect', message);
    }
    let binding = known;
    if (binding === undefined || binding.group !== entry.group) {
      if (binding !== undefined) closeBinding(binding);
      binding = { uid, group: entry.group, registrar: this.#registrar(entry.group), unsubscribe: entry.group.on(() => this.#o.onChange()), admitted: { ...spec }, targets: [] };
      this.#bindings.set(uid, binding);
    }
    const effectiveTgb: TargetGroupBinding = { ...tgb, spec: effective };
    const wanted = bindingTargets(snapshot, effectiveTgb);
    if ('error' in wanted) {
      await this.#o.event(ref, 'Warning', 'FailedReconcile', `Failed reconcile due to ${wanted.error}`);
      return;
    }
    const targets = 'targets' in wanted ? wanted.targets : [];
    if ('backendNotFound' in wanted) await this.#o.event(ref, 'Warning', 'BackendNotFound', wanted.backendNotFound);
    binding.targets = targets;
    binding.registrar.update(targets);
    if (effective.multiClusterTargetGroup === true) await this.#track(tgb, binding);
    else this.#deregisterForeign(binding);
    await this.#applyGates(effectiveTgb, binding, snapshot, false);
    await this.#observed(tgb);
    if (!('backendNotFound' in wanted)) await this.#o.event(ref, 'Normal', 'SuccessfullyReconciled', 'Successfully reconciled');
  }

  /**
   * Full ownership (spec 15.3.6): registered targets that are not endpoints of the binding and
   * that its registrar does not handle (the config file's own `targets:`, a RegisterTargets call)
   * are deregistered; draining ones are left to drain.
   */
  #deregisterForeign(binding: Binding): void {
    const wanted = new Set(binding.targets.map(keyOfTarget));
    const foreign = binding.group
      .describeTargetHealth()
      .filter((d) => d.targetHealth.state !== 'draining' && !wanted.has(keyOfTarget(d.target)) && !binding.registrar.manages(keyOfTarget(d.target)))
      .map((d) => ({ id: d.target.id, port: d.target.port }));
    if (foreign.length === 0) return;
    void binding.group.deregister(foreign);
    this.#o.logger.info({ event: 'k8s.deregister', targetGroup: binding.group.name, targets: foreign.map(keyOfTarget) }, `deregistered ${foreign.map(keyOfTarget).join(', ')} from ${binding.group.name} (not endpoints of its TargetGroupBinding)`);
  }

  /**
   * `multiClusterTargetGroup` (spec 15.3.6): the targets this cluster registered are recorded in
   * ConfigMap `aws-lbc-targets-<name>` (key `targets`), so that only those are ever deregistered,
   * across restarts too. On the first reconcile (no ConfigMap yet) nothing is deregistered; a
   * recorded target that is no longer an endpoint, and that the registrar does not handle (it was
   * registered before a restart), is deregistered.
   */
  async #track(tgb: TargetGroupBinding, binding: Binding): Promise<void> {
    const ns = tgb.metadata?.namespace ?? 'default';
    const name = trackedTargetsConfigMap(tgb.metadata?.name ?? '');
    let existed = binding.tracked !== undefined;
    if (binding.tracked === undefined) {
      const cm = await this.#readTracked(tgb);
      existed = cm !== undefined;
      binding.tracked = parseTrackedTargets(cm?.data?.['targets']);
    }
    if (existed) {
      const wanted = new Set(binding.targets.map(keyOfTarget));
      const stale = binding.group
        .describeTargetHealth()
        .filter((d) => d.targetHealth.state !== 'draining' && binding.tracked!.has(keyOfTarget(d.target)) && !wanted.has(keyOfTarget(d.target)) && !binding.registrar.manages(keyOfTarget(d.target)))
        .map((d) => ({ id: d.target.id, port: d.target.port }));
      if (stale.length > 0) void binding.group.deregister(stale);
    }
    const csv = trackedTargetsCsv(binding.targets);
    if (existed && csv === [...binding.tracked].sort().join(',')) return;
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { targets: csv } };
    if (existed) await this.#core.replaceNamespacedConfigMap({ name, namespace: ns, body, fieldManager: this.#o.fieldManager });
    else await this.#core.createNamespacedConfigMap({ namespace: ns, body, fieldManager: this.#o.fieldManager });
    binding.tracked = parseTrackedTargets(csv);
  }

  async #cleanup(tgb: TargetGroupBinding, uid: string, snapshot: ClusterSnapshot): Promise<void> {
    if (!(tgb.metadata?.finalizers ?? []).includes(TGB_FINALIZER)) return;
    const ref = refOf(tgb);
    const binding = this.#bindings.get(uid);
    const entry = binding ?? this.#directory().find((e) => e.described.arn === tgb.spec?.targetGroupARN);
    if (entry !== undefined) {
      const group = entry.group;
      if (binding !== undefined) closeBinding(binding);
      const multi = tgb.spec?.multiClusterTargetGroup === true;
      const tracked = multi ? (binding?.tracked ?? parseTrackedTargets((await this.#readTracked(tgb))?.data?.['targets'])) : undefined;
      const registered = group
        .describeTargetHealth()
        .filter((d) => d.targetHealth.state !== 'draining' && (tracked === undefined || tracked.has(keyOfTarget(d.target)) || binding?.registrar.manages(keyOfTarget(d.target)) === true))
        .map((d) => ({ id: d.target.id, port: d.target.port }));
      if (registered.length > 0) {
        // Deregistered now; they drain for the group's deregistration delay (the promise ends with it).
        void group.deregister(registered);
        this.#o.logger.info({ event: 'k8s.deregister', targetGroup: group.name, targets: registered.map(keyOfTarget) }, `TargetGroupBinding ${ref.namespace}/${ref.name} deleted: deregistered ${registered.map(keyOfTarget).join(', ')} from ${group.name}`);
      }
    }
    if (tgb.spec?.multiClusterTargetGroup === true) {
      await this.#core.deleteNamespacedConfigMap({ name: trackedTargetsConfigMap(tgb.metadata?.name ?? ''), namespace: tgb.metadata?.namespace ?? 'default' }).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 404) throw err;
      });
    }
    // A group that no longer exists counts as done (spec 15.3.4).
    await this.#applyGates(tgb, binding, snapshot, true);
    this.#bindings.delete(uid);
    try {
      const finalizers = (tgb.metadata?.finalizers ?? []).filter((f) => f !== TGB_FINALIZER);
      await this.#patch(tgb, { metadata: { finalizers: finalizers.length > 0 ? finalizers : null } });
    } catch (err) {
      await this.#o.event(ref, 'Warning', 'FailedRemoveFinalizer', `Failed remove finalizer due to ${String((err as Error).message ?? err)}`);
    }
  }

  #readTracked(tgb: TargetGroupBinding) {
    return this.#core.readNamespacedConfigMap({ name: trackedTargetsConfigMap(tgb.metadata?.name ?? ''), namespace: tgb.metadata?.namespace ?? 'default' }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw err;
    });
  }

  #registrar(group: TargetGroup): TargetRegistrar {
    const lags = this.#o.propagation ?? {};
    return new TargetRegistrar({
      group,
      clock: realClock,
      ...(lags.registrationDelayMs !== undefined ? { registrationDelayMs: lags.registrationDelayMs } : {}),
      ...(lags.deregistrationLagMs !== undefined ? { deregistrationLagMs: lags.deregistrationLagMs } : {}),
      applied: (action, target) =>
        this.#o.logger.info({ event: `k8s.${action}`, targetGroup: group.name, target: keyOfTarget(target) }, `${action === 'register' ? 'registered' : 'deregistered'} ${keyOfTarget(target)} ${action === 'register' ? 'with' : 'from'} ${group.name}`),
    });
  }

  async #applyGates(tgb: TargetGroupBinding, binding: Binding | undefined, snapshot: ClusterSnapshot, deleted: boolean): Promise<void> {
    const group = binding?.group;
    const changes = bindingGateConditions(
      snapshot.pods,
      tgb.metadata?.name ?? '',
      binding?.targets ?? [],
      (t) => gateCondition(group?.describeTargetHealth([{ id: t.id, port: t.port }])[0]?.targetHealth),
      { deleted, namespace: tgb.metadata?.namespace ?? 'default', now: new Date() },
    );
    for (const { pod, condition } of changes) {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      try {
        await this.#core.patchNamespacedPodStatus(
          { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { status: { conditions: [condition] } }, fieldManager: this.#o.fieldManager },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
        this.#o.logger.info({ event: 'k8s.readiness_gate', pod: key, conditions: [`${condition.type}=${condition.status}`] }, `pod ${key}: ${condition.type}=${condition.status}${condition.reason ? ` (${condition.reason})` : ''}`);
      } catch (err) {
        this.#o.logger.warn({ event: 'k8s.readiness_gate_failed', pod: key, err: String(err) }, `could not patch the readiness gate of ${key}`);
      }
    }
  }

  // ------------------------------------------------------------------ controller-made bindings

  async #reconcileControllerMade(stacks: readonly DesiredStack[], all: readonly TargetGroupBinding[]): Promise<void> {
    const arnOf = this.#o.targetGroupArn;
    if (arnOf === undefined) return;
    const desired = controllerBindings(stacks, arnOf);
    const diff = diffControllerBindings(desired, all);
    for (const d of diff.create) {
      try {
        await this.#custom.createNamespacedCustomObject({ group: TGB_GROUP, version: this.#version!, namespace: d.namespace, plural: TGB_PLURAL, body: this.#body(d), fieldManager: this.#o.fieldManager });
        this.#o.logger.info({ event: 'k8s.tgb_created', binding: `${d.namespace}/${d.name}` }, `created TargetGroupBinding ${d.namespace}/${d.name} for ${d.spec.targetGroupARN}`);
      } catch (err) {
        this.#o.logger.warn({ event: 'k8s.tgb_failed', binding: `${d.namespace}/${d.name}`, err: String(err) }, `could not create TargetGroupBinding ${d.namespace}/${d.name}`);
      }
    }
    for (const d of diff.update) {
      const have = all.find((o) => o.spec?.targetGroupARN === d.spec.targetGroupARN && isControllerMade(o));
      if (have !== undefined) await this.#patch(have, { metadata: { labels: d.labels }, spec: d.spec }).catch((err: unknown) => this.#o.logger.warn({ err: String(err) }, `could not update TargetGroupBinding ${d.namespace}/${d.name}`));
    }
    for (const o of diff.remove) {
      try {
        await this.#custom.deleteNamespacedCustomObject({ group: TGB_GROUP, version: this.#version!, namespace: o.metadata!.namespace!, plural: TGB_PLURAL, name: o.metadata!.name! });
        this.#o.logger.info({ event: 'k8s.tgb_deleted', binding: `${o.metadata?.namespace}/${o.metadata?.name}` }, `deleted TargetGroupBinding ${o.metadata?.namespace}/${o.metadata?.name}`);
      } catch (err) {
        this.#o.logger.debug({ err: String(err) }, 'could not delete a TargetGroupBinding');
      }
    }
    const wanted = new Set(desired.map((d) => d.spec.targetGroupARN));
    for (const o of all) if (isControllerMade(o) && wanted.has(o.spec?.targetGroupARN ?? '') && !o.metadata?.deletionTimestamp) await this.#observed(o);
  }

  #body(d: ControllerBinding): object {
    return { apiVersion: `${TGB_GROUP}/${this.#version}`, kind: TGB_KIND, metadata: { name: d.name, namespace: d.namespace, labels: d.labels }, spec: d.spec };
  }

  // ------------------------------------------------------------------ writes

  #patch(tgb: TargetGroupBinding, body: object): Promise<unknown> {
    return this.#custom.patchNamespacedCustomObject(
      { group: TGB_GROUP, version: this.#version!, namespace: tgb.metadata!.namespace!, plural: TGB_PLURAL, name: tgb.metadata!.name!, body, fieldManager: this.#o.fieldManager },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** `status.observedGeneration` = `metadata.generation` (a merge patch of the status subresource) when it lags. */
  async #observed(tgb: TargetGroupBinding): Promise<void> {
    const generation = tgb.metadata?.generation;
    if (generation === undefined || tgb.status?.observedGeneration === generation) return;
    try {
      await this.#custom.patchNamespacedCustomObjectStatus(
        { group: TGB_GROUP, version: this.#version!, namespace: tgb.metadata!.namespace!, plural: TGB_PLURAL, name: tgb.metadata!.name!, body: { status: { observedGeneration: generation } }, fieldManager: this.#o.fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      await this.#o.event(refOf(tgb), 'Warning', 'FailedUpdateStatus', `Failed update status due to ${String((err as Error).message ?? err)}`);
    }
  }
}
