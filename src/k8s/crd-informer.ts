/**
 * A watch of one custom resource that the cluster may not serve: it asks discovery whether
 * `<group>/<version>` serves `kind` (the first of `versions` that does), and only then lists and
 * watches it (cluster-wide) with the same ResilientInformer as every other resource. A cluster
 * without the CRD starts no watch and the list stays empty; `rediscover()` (the controller's
 * resync) finds a CRD installed later. The controller uses it for IngressClassParams (spec 15.4)
 * and TargetGroupBinding (15.3: v1beta1, else v1alpha1).
 */
import { ApisApi, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.ts';
import { ResilientInformer } from './informer.ts';

export interface CustomResourceInformerOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly group: string;
  /** The versions to look for, preferred first. */
  readonly versions: readonly string[];
  readonly plural: string;
  readonly kind: string;
  /** Called on every add, update and delete (and after each re-list). */
  readonly onChange: () => void;
  readonly watchBackoffMs?: { readonly min: number; readonly max: number };
}

export class CustomResourceInformer<T extends KubernetesObject> {
  readonly #options: CustomResourceInformerOptions;
  #informer: ResilientInformer<T> | undefined;
  #version: string | undefined;
  #discovering: Promise<void> | undefined;
  #stopped = false;

  constructor(options: CustomResourceInformerOptions) {
    this.#options = options;
  }

  /** Whether the cluster serves the resource (and it is watched). */
  get served(): boolean {
    return this.#informer !== undefined;
  }

  /** True once a list has filled the cache (before it, an empty list means nothing; a failed first list is retried). */
  get listed(): boolean {
    return this.#informer?.listed ?? false;
  }

  /** The version watched (the first of `versions` the cluster serves); undefined before. */
  get version(): string | undefined {
    return this.#version;
  }

  get restarts(): number {
    return this.#informer?.restarts ?? 0;
  }

  /** Looks for the CRD and starts the watch when it is served; resolves after the first list. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.rediscover();
  }

  /** Looks again when not yet watching (a CRD installed after start); cheap once watching. */
  rediscover(): Promise<void> {
    if (this.#stopped || this.#informer !== undefined) return Promise.resolve();
    this.#discovering ??= this.#discover().finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#discovering?.catch(() => {});
    await this.#informer?.stop();
    this.#informer = undefined;
  }

  /** The watched objects; empty when the cluster does not serve the resource. */
  list(): readonly T[] {
    return this.#informer?.list() ?? [];
  }

  async #discover(): Promise<void> {
    const { kubeConfig, logger, group, versions, plural, kind } = this.#options;
    let version: string | undefined;
    try {
      const groups = await kubeConfig.makeApiClient(ApisApi).getAPIVersions();
      const offered = new Set(groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion)));
      for (const v of versions) {
        if (!offered.has(`${group}/${v}`)) continue;
        const resources = await kubeConfig.makeApiClient(CustomObjectsApi).getAPIResources({ group, version: v });
        if (resources.resources.some((r) => r.name === plural && r.kind === kind)) {
          version = v;
          break;
        }
      }
    } catch (err) {
      logger.debug({ err: String(err), kind }, `discovery of ${kind} failed; trying again at the next resync`);
      return;
    }
    if (version === undefined || this.#stopped) return;
    const groupVersion = `${group}/${version}`;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const informer = new ResilientInformer<T>({
      kubeConfig,
      path: `/apis/${groupVersion}/${plural}`,
      list: (() => custom.listClusterCustomObject({ group, version, plural })) as never,
      logger,
      onChange: this.#options.onChange,
      ...(this.#options.watchBackoffMs ? { minBackoffMs: this.#options.watchBackoffMs.min, maxBackoffMs: this.#options.watchBackoffMs.max } : {}),
    });
    this.#informer = informer;
    this.#version = version;
    logger.info({ event: 'k8s.crd_watch', kind, apiVersion: groupVersion }, `watching ${kind} (${groupVersion})`);
    await informer.start();
  }
}
