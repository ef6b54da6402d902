/**
 * One change to the runtime, as the ELBv2 API makes it: the running state as a config input
 * (the snapshot, copied so it can be edited), the call's edit on it, then the whole config
 * validated by the one schema (parseConfig: AWS's defaults, ranges and cross-checks) and
 * applied (ElbRuntime.apply: only what changed is touched). Each listener and rule of the
 * input keeps the record (ARN, tags) of the one it was copied from, and the record moves to
 * the object that stands for it in the next config.
 */
import { ConfigError } from '../core/errors.ts';
import { printableConfig } from '../config/print.ts';
import { parseConfig, type Config, type ConfigInput } from '../config/schema.ts';
import type { ElbRuntime } from '../runtime/runtime.ts';
import type { Catalog, ListenerRecord, RuleRecord } from './catalog.ts';
import { ApiError } from './errors.ts';
import { managedError } from './api.ts';

export type InputTargetGroup = NonNullable<ConfigInput['targetGroups']>[number];
export type InputLoadBalancer = NonNullable<ConfigInput['loadBalancers']>[number];
export type InputListener = InputLoadBalancer['listeners'][number];
export type InputRule = NonNullable<InputListener['rules']>[number];
export type InputTrustStore = NonNullable<ConfigInput['trustStores']>[number];

export class Draft {
  readonly targetGroups: InputTargetGroup[];
  readonly loadBalancers: InputLoadBalancer[];
  readonly trustStores: InputTrustStore[];
  readonly #certificates: ConfigInput['certificates'];
  readonly #listenerRecords = new Map<InputListener, ListenerRecord>();
  readonly #ruleRecords = new Map<InputRule, RuleRecord>();
  readonly #runtime: ElbRuntime;
  readonly #catalog: Catalog;

  constructor(runtime: ElbRuntime, catalog: Catalog) {
    this.#runtime = runtime;
    this.#catalog = catalog;
    const snapshot = runtime.snapshot();
    const printed = printableConfig(snapshot);
    this.targetGroups = structuredClone(printed.targetGroups ?? []) as InputTargetGroup[];
    this.#certificates = printed.certificates;
    this.trustStores = structuredClone(printed.trustStores ?? []) as InputTrustStore[];
    this.loadBalancers = snapshot.loadBalancers.map((lb) => {
      const record = catalog.loadBalancer(runtime.loadBalancer(lb.name));
      const listeners = lb.listeners.map((l) => {
        const copy = structuredClone(l) as InputListener;
        const listenerRecord = catalog.listener(record, l);
        this.#listenerRecords.set(copy, listenerRecord);
        l.rules.forEach((rule, k) => this.#ruleRecords.set(copy.rules![k]!, catalog.rule(listenerRecord, rule)));
        return copy;
      });
      return { ...structuredClone({ ...lb, listeners: [] }), listeners } as InputLoadBalancer;
    });
  }

  /** The input of a load balancer the API owns (OperationNotPermitted for a managed one). */
  loadBalancer(name: string): InputLoadBalancer {
    const found = this.loadBalancers.find((lb) => lb.name === name);
    if (found === undefined) throw managedError(name);
    return found;
  }

  targetGroup(name: string): InputTargetGroup {
    const found = this.targetGroups.find((g) => g.name === name);
    if (found === undefined) throw managedError(name);
    return found;
  }

  /** The input listener that stands for the listener with this record. */
  listener(record: ListenerRecord): { lb: InputLoadBalancer; listener: InputListener; index: number } {
    for (const lb of this.loadBalancers) {
      const index = lb.listeners.findIndex((l) => this.#listenerRecords.get(l) === record);
      if (index >= 0) return { lb, listener: lb.listeners[index]!, index };
    }
    throw managedError(record.arn);
  }

  rule(record: RuleRecord): { listener: InputListener; rule: InputRule; index: number } {
    for (const lb of this.loadBalancers) {
      for (const listener of lb.listeners) {
        const index = (listener.rules ?? []).findIndex((r) => this.#ruleRecords.get(r) === record);
        if (index >= 0) return { listener, rule: listener.rules![index]!, index };
      }
    }
    throw managedError(record.arn);
  }

  /** A listener the call adds (or that replaces one, keeping its record). */
  bindListener(listener: InputListener, record: ListenerRecord): void {
    this.#listenerRecords.set(listener, record);
  }

  bindRule(rule: InputRule, record: RuleRecord): void {
    this.#ruleRecords.set(rule, record);
  }

  /** Validates the edited config and applies it; a config issue becomes AWS's error (ValidationError unless the issue names another code). */
  async commit(): Promise<Config> {
    const input: ConfigInput = {
      targetGroups: this.targetGroups,
      loadBalancers: this.loadBalancers,
      ...(this.#certificates ? { certificates: this.#certificates } : {}),
      ...(this.trustStores.length > 0 ? { trustStores: this.trustStores } : {}),
    };
    let next: Config;
    try {
      next = parseConfig(input, 'the request');
    } catch (err) {
      if (err instanceof ConfigError) throw apiErrorOf(err);
      throw err;
    }
    next.loadBalancers.forEach((lb, i) => {
      lb.listeners.forEach((l, k) => {
        const inputListener = this.loadBalancers[i]!.listeners[k]!;
        const record = this.#listenerRecords.get(inputListener);
        if (record !== undefined) this.#catalog.setListener(l, record);
        l.rules.forEach((r, j) => {
          const ruleRecord = this.#ruleRecords.get(inputListener.rules![j]!);
          if (ruleRecord !== undefined) this.#catalog.setRule(r, ruleRecord);
        });
      });
    });
    await this.#runtime.apply(next, { fallback: true });
    return next;
  }
}

/**
 * A config issue as AWS's error: the code an issue names in its text (`(SSLPolicyNotFound)`,
 * `(InvalidConfigurationRequest: …)`), else ValidationError; the message is the issue's, with
 * AWS's own wording where the catalogue has it.
 */
export function apiErrorOf(err: ConfigError): ApiError {
  const first = err.issues[0]!;
  const named = /\((SSLPolicyNotFound|ALPNPolicyNotFound|InvalidConfigurationRequest|ValidationError|TrustStoreNotFound|DuplicateTrustStoreName)(?::\s*([^)]*))?\)/.exec(first.message);
  const code = (named?.[1] ?? 'ValidationError') as 'SSLPolicyNotFound' | 'ALPNPolicyNotFound' | 'InvalidConfigurationRequest' | 'ValidationError' | 'TrustStoreNotFound' | 'DuplicateTrustStoreName';
  const message = named?.[2] ?? err.issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ');
  return new ApiError(code, message, { cause: err });
}
