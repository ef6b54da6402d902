/**
 * A list+watch cache that does not give up. `@kubernetes/client-node` informers stop for good
 * when a watch fails with anything but 410 Gone (a reset socket, a restarted API server), and a
 * stop that overlaps a reconnect can leave a watch running. This wrapper makes a fresh informer
 * for every (re)start, ignores events from retired ones, and retries until it is stopped; 410
 * Gone is handled by the client (it re-lists).
 *
 * Retries back off from `minBackoffMs` (0.5 s) doubling to `maxBackoffMs` (30 s). The backoff
 * goes back to the minimum only once an attempt has worked: its watch delivered an event (not
 * the adds that replay its list), or it stayed up for `stableAfterMs` (30 s) after listing. The
 * client's `connect` event means only that an attempt began, so it resets nothing. A failure
 * is logged at warn with its underlying cause (`ECONNREFUSED 127.0.0.1:6443`, a certificate
 * error, `HTTP 403 Forbidden`) when the cause changes, not on every attempt, and once more when
 * the watch is back. All waiting is on the injected clock.
 *
 * While an attempt re-lists, `list()` keeps answering from the last attempt that listed (its
 * cache outlives its stop), as a shared informer's store does: a reconcile during a restart sees
 * the cluster as last known, not empty.
 */
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { realClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';

/** What this wrapper needs of a client-node informer (tests give a scripted one). */
export interface InformerLike<T extends KubernetesObject> {
  on(verb: 'add' | 'update' | 'delete', fn: (obj: T) => void): void;
  on(verb: 'connect' | 'error', fn: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  list(): readonly T[];
}

/** Makes one informer over `list` (the client's `makeInformer` by default). */
export type InformerFactory<T extends KubernetesObject> = (list: () => Promise<KubernetesListObject<T>>) => InformerLike<T>;

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** Watch path, e.g. `/api/v1/services`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly logger: Logger;
  /** Called on every add, update and delete (and after each re-list). */
  readonly onChange: () => void;
  /** Builds the informer of each attempt; without it, `kubeConfig` (and `labelSelector`) feed the client's `makeInformer`. */
  readonly informer?: InformerFactory<T>;
  readonly kubeConfig?: KubeConfig;
  readonly labelSelector?: string;
  readonly clock?: Clock;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** An attempt that has listed and stayed up this long counts as working (default 30 s). */
  readonly stableAfterMs?: number;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly #options: ResilientInformerOptions<T>;
  readonly #clock: Clock;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #stableAfterMs: number;
  /** The informer whose cache `list()` reads: the newest that has listed. */
  #current: InformerLike<T> | undefined;
  #listed = false;
  /** The newest attempt, listed or not: the one to stop. */
  #attempt: InformerLike<T> | undefined;
  #generation = 0;
  #stopped = true;
  #backoffMs: number;
  #cancelRetry: (() => void) | undefined;
  #cancelStable: (() => void) | undefined;
  #restarts = 0;
  /** Failed attempts since the watch last worked. */
  #failures = 0;
  /** The cause last logged at warn; undefined while the watch works. */
  #loggedCause: string | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: ResilientInformerOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#minBackoffMs = options.minBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#stableAfterMs = options.stableAfterMs ?? 30_000;
    this.#backoffMs = this.#minBackoffMs;
  }

  /** How many times the watch was re-established after an error. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The wait before the next retry, if the current attempt fails now. */
  get backoffMs(): number {
    return this.#backoffMs;
  }

  /** Objects in the cache of the newest attempt that has listed (empty before the first list). */
  list(): readonly T[] {
    return this.#current?.list() ?? [];
  }

  /** True once an attempt's list has filled the cache (a failed first list leaves it false). */
  get listed(): boolean {
    return this.#listed;
  }

  /** Starts (lists, then watches); resolves after the first list attempt (a failure is retried). */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#serial(() => this.#startFresh());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelRetry?.();
    this.#cancelStable?.();
    await this.#serial(async () => {
      this.#generation++;
      await this.#attempt?.stop().catch(() => {});
    });
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => {});
    return next;
  }

  #makeInformer(list: () => Promise<KubernetesListObject<T>>): Promise<InformerLike<T>> {
    if (this.#options.informer) return Promise.resolve(this.#options.informer(list));
    const { kubeConfig, path, labelSelector } = this.#options;
    if (kubeConfig === undefined) throw new Error('ResilientInformer needs kubeConfig or informer');
    return import('@kubernetes/client-node').then(({ makeInformer }) => makeInformer<T>(kubeConfig, path, list, labelSelector) as InformerLike<T>);
  }

  /** The attempt worked: back to the shortest backoff, and say so if failures were logged. */
  #worked(): void {
    this.#cancelStable?.();
    this.#cancelStable = undefined;
    this.#backoffMs = this.#minBackoffMs;
    if (this.#loggedCause !== undefined) {
      this.#options.logger.info(
        { event: 'k8s.watch_recovered', path: this.#options.path, failures: this.#failures },
        `watch ${this.#options.path} is back after ${this.#failures} failed attempt${this.#failures === 1 ? '' : 's'}`,
      );
    }
    this.#failures = 0;
    this.#loggedCause = undefined;
  }

  async #startFresh(): Promise<void> {
    if (this.#stopped) return;
    const generation = ++this.#generation;
    this.#cancelStable?.();
    this.#cancelStable = undefined;
    await this.#attempt?.stop().catch(() => {});
    const { path, logger, onChange } = this.#options;
    const live = () => generation === this.#generation && !this.#stopped;
    // The adds that replay a list are not watch events: count them off before counting events.
    let replaying = 0;
    // The client fills its cache from this list before start() resolves; a failed list makes no
    // rejection there (only an 'error'), so this says whether the attempt's cache holds the cluster.
    let filled = false;
    const list = async () => {
      const result = await this.#options.list();
      filled = true;
      if (live()) {
        replaying = result.items.length;
        this.#cancelStable?.();
        this.#cancelStable = this.#clock.setTimer(this.#stableAfterMs, () => {
          if (live()) this.#worked();
        });
      }
      return result;
    };
    const informer = await this.#makeInformer(list);
    if (!live()) return;
    const changed = (verb: 'add' | 'update' | 'delete') => () => {
      if (!live()) return;
      if (verb === 'add' && replaying > 0) replaying--;
      else if (this.#failures > 0 || this.#backoffMs !== this.#minBackoffMs) this.#worked();
      onChange();
    };
    informer.on('add', changed('add'));
    informer.on('update', changed('update'));
    informer.on('delete', changed('delete'));
    informer.on('error', (err?: unknown) => {
      if (!live()) return;
      this.#cancelStable?.();
      this.#cancelStable = undefined;
      const delay = this.#backoffMs;
      this.#backoffMs = Math.min(delay * 2, this.#maxBackoffMs);
      this.#failures++;
      const cause = watchFailureCause(err);
      const fields = { event: 'k8s.watch_failed', path, cause, failures: this.#failures, retryInMs: delay };
      const text = `watch ${path} failed: ${cause}; retrying in ${formatMs(delay)}, backing off to ${formatMs(this.#maxBackoffMs)}`;
      if (cause !== this.#loggedCause) logger.warn(fields, text);
      else logger.debug(fields, text);
      this.#loggedCause = cause;
      this.#cancelRetry?.();
      this.#cancelRetry = this.#clock.setTimer(delay, () => {
        this.#cancelRetry = undefined;
        this.#restarts++;
        void this.#serial(() => this.#startFresh()).catch(() => {});
      });
    });
    this.#attempt = informer;
    try {
      await informer.start();
    } catch {
      // The 'error' handler has scheduled the retry.
    }
    if (!live() || !filled) return;
    this.#current = informer;
    this.#listed = true;
    onChange();
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}

/**
 * The underlying cause of a list or watch failure, as a user can act on it. The client wraps a
 * refused connection as `TypeError: fetch failed` with the socket error as `cause`; an HTTP
 * error carries its status (ApiException `code`, the watch's `statusCode`).
 */
export function watchFailureCause(err: unknown): string {
  if (err === null || err === undefined) return 'unknown error';
  if (typeof err !== 'object') return String(err);
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; cause?: unknown; errors?: unknown; address?: unknown; port?: unknown; body?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.code === 'number' ? e.code : undefined;
  if (status !== undefined) {
    const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
    const detail = (body as { message?: unknown } | undefined)?.message;
    const firstLine = typeof e.message === 'string' ? e.message.split('\n')[0]!.replace(/^HTTP-Code: \d+$/, '') : '';
    return `HTTP ${status}${typeof detail === 'string' ? `: ${detail}` : firstLine ? ` ${firstLine}` : ''}`;
  }
  if (e.cause !== undefined && e.cause !== null) return watchFailureCause(e.cause);
  if (Array.isArray(e.errors) && e.errors.length > 0) return [...new Set(e.errors.map(watchFailureCause))].join(', ');
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]!.split('; if the root CA')[0]! : '';
  if (code !== undefined && typeof e.address === 'string') return `${code} ${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''}`;
  if (code !== undefined && !message.includes(code)) return `${code}: ${message}`;
  return message || code || String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
