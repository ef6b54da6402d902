/**
 * A list+watch cache that does not give up. `@kubernetes/client-node` informers stop for good
 * when a watch fails with anything but 410 Gone (a reset socket, a restarted API server), and a
 * stop that overlaps a reconnect can leave a watch running. This wrapper makes a fresh informer
 * for every (re)start, ignores events from retired ones, and retries with backoff until it is
 * stopped; 410 Gone is handled by the client (it re-lists).
 */
import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.ts';

type AnyInformer<T extends KubernetesObject> = ReturnType<typeof makeInformer<T>>;

export interface ResilientInformerOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/services`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /** Called on every add, update and delete (and after each re-list). */
  readonly onChange: () => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly #o: ResilientInformerOptions<T>;
  #current: AnyInformer<T> | undefined;
  #generation = 0;
  #stopped = true;
  #backoffMs: number;
  #retryTimer: NodeJS.Timeout | undefined;
  #restarts = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: ResilientInformerOptions<T>) {
    this.#o = options;
    this.#backoffMs = options.minBackoffMs ?? 500;
  }

  /** How many times the watch was re-established after an error. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Objects in the cache of the current informer. */
  list(): readonly T[] {
    return this.#current?.list() ?? [];
  }

  /** Starts (lists, then watches); resolves after the first list attempt (a failure is retried). */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#serial(() => this.#startFresh());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    await this.#serial(async () => {
      this.#generation++;
      const old = this.#current;
      await old?.stop().catch(() => {});
    });
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #startFresh(): Promise<void> {
    if (this.#stopped) return;
    const generation = ++this.#generation;
    const previous = this.#current;
    await previous?.stop().catch(() => {});
    const { kubeConfig, path, list, labelSelector, logger, onChange } = this.#o;
    const informer = makeInformer<T>(kubeConfig, path, list, labelSelector);
    const live = () => generation === this.#generation && !this.#stopped;
    const changed = () => {
      if (live()) onChange();
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    informer.on('connect', () => {
      if (live()) this.#backoffMs = this.#o.minBackoffMs ?? 500;
    });
    informer.on('error', (err: unknown) => {
      if (!live()) return;
      const delay = this.#backoffMs;
      this.#backoffMs = Math.min(delay * 2, this.#o.maxBackoffMs ?? 30_000);
      logger.warn({ event: 'k8s.watch_failed', path, err: errorText(err), retryInMs: delay }, `watch ${path} failed (${errorText(err)}); retrying in ${delay} ms`);
      this.#retryTimer = setTimeout(() => {
        this.#restarts++;
        void this.#serial(() => this.#startFresh()).catch(() => {});
      }, delay);
      this.#retryTimer.unref?.();
    });
    this.#current = informer;
    try {
      await informer.start();
    } catch (err) {
      // start() rejects when the first list fails; the 'error' handler schedules the retry.
      logger.warn({ event: 'k8s.list_failed', path, err: errorText(err) }, `listing ${path} failed: ${errorText(err)}`);
    }
    if (live()) onChange();
  }
}

function errorText(err: unknown): string {
  if (err === null || err === undefined) return 'unknown error';
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  return String(e.code ?? e.statusCode ?? e.message ?? err);
}
