/**
 * An Application Load Balancer (spec 5, 6, 7): its listeners, its attributes as the data path
 * uses them, the target groups its actions name, and who hears about finished requests. Each
 * listener runs requests through the staged pipeline in ./pipeline/ with a ListenerRuntime
 * built here. Target groups are shared with the caller; this class never decides health or
 * fail-open, the forward stage asks a group for a lease.
 */
import { realClock, type Clock } from '../core/clock.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { ElbMetrics } from '../core/metrics.ts';
import { mathRandom, type Random } from '../core/random.ts';
import { applicationLoadBalancerAttributes, resolveAttributes } from '../config/attributes.ts';
import { applicationLoadBalancerSettings } from '../config/settings.ts';
import type { ListenerConfig, LoadBalancerConfig } from '../config/schema.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import { localCaIssuer, TlsProvider } from '../tls/provider.ts';
import { forwardChoice, type ForwardActionConfig, type ForwardChoice } from './actions/forward.ts';
import { tlsHeaderNames, type ForwardHeaderOptions, type TlsHeaderNames } from './headers.ts';
import { responseHeaderRules } from './response-headers.ts';
import { Listener } from './listener.ts';
import type { AlbSettings, ForwardGroup, ListenerRuntime } from './pipeline/context.ts';
import type { RequestRecord } from './request-record.ts';
import { compileRules } from './rules.ts';
import { TargetPools } from './upstream/pools.ts';
import { Http2Upstream } from './upstream/http2.ts';

export interface ApplicationLoadBalancerOptions {
  readonly config: LoadBalancerConfig;
  /** Every target group a listener action may name, by name. */
  readonly targetGroups: ReadonlyMap<string, TargetGroup>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: ElbMetrics;
  /** Weighted forward actions draw from this. */
  readonly random?: Random;
  /** Certificates and policies for HTTPS listeners and HTTPS target groups (default: the local CA in `~/.local-elb`). */
  readonly tls?: TlsProvider;
}

export class ApplicationLoadBalancer {
  readonly name: string;
  readonly config: LoadBalancerConfig;
  readonly #groups: ReadonlyMap<string, TargetGroup>;
  readonly #log: Logger;
  readonly #pools: TargetPools;
  readonly #http2: Http2Upstream;
  readonly #listeners: Listener[];
  readonly #tls: TlsProvider;
  readonly #observers = new Set<(record: RequestRecord) => void>();
  readonly #unsubscribe: Array<() => void> = [];
  #attributes: Record<string, string>;
  #settings: AlbSettings;

  constructor(options: ApplicationLoadBalancerOptions) {
    const clock = options.clock ?? realClock;
    const metrics = options.metrics ?? new ElbMetrics();
    const random = options.random ?? mathRandom;
    this.name = options.config.name;
    this.config = options.config;
    this.#groups = options.targetGroups;
    this.#log = (options.logger ?? silentLogger()).child({ loadBalancer: this.name });
    this.#attributes = { ...options.config.attributes };
    this.#settings = applicationLoadBalancerSettings(this.#attributes);
    this.#pools = new TargetPools({ clock, idleTimeoutMs: () => this.#settings.idleTimeoutMs });
    this.#http2 = new Http2Upstream({ clock, idleTimeoutMs: () => this.#settings.idleTimeoutMs });
    const tlsProvider = options.tls ?? new TlsProvider({ certificates: [], issuer: localCaIssuer(), clock });
    this.#tls = tlsProvider;
    for (const name of this.targetGroupNames()) {
      this.#unsubscribe.push(
        this.#group(name).on((e) => {
          if (e.type !== 'target.removed') return;
          this.#pools.drop(e.target.key);
          this.#http2.drop(e.target.key);
        }),
      );
    }
    const counters = metrics.loadBalancerCounters(this.name, 'application');
    const groups = new Map<string, ForwardGroup>();
    const resolve = (name: string): ForwardGroup => {
      let g = groups.get(name);
      if (g === undefined) {
        const group = this.#group(name);
        g = {
          group,
          counters: metrics.targetGroupCounters(this.name, name),
          tls: group.config.protocol === 'HTTPS',
          protocolVersion: group.config.protocolVersion ?? 'HTTP1',
        };
        groups.set(name, g);
      }
      return g;
    };
    const choices = new Map<ForwardActionConfig, ForwardChoice>();
    const choiceFor = (action: ForwardActionConfig): ForwardChoice => {
      let c = choices.get(action);
      if (c === undefined) {
        c = forwardChoice(action, resolve);
        choices.set(action, c);
      }
      return c;
    };
    this.#listeners = options.config.listeners.map((l) => {
      const https = l.protocol === 'HTTPS';
      const runtime: ListenerRuntime = {
        loadBalancer: this.name,
        protocol: https ? 'https' : 'http',
        backendTls: tlsProvider.backend(https ? l.sslPolicy : undefined, 'application'),
        address: l.address,
        port: 0,
        settings: this.#settings,
        headerOptions: headerOptions(this.#settings, 0, https ? 'https' : 'http', listenerTlsHeaderNames(l)),
        clock,
        log: this.#log,
        rules: compileRules(l),
        counters,
        forwardChoice: choiceFor,
        upstream: this.#pools,
        upstreamHttp2: this.#http2,
        random,
        observer: undefined,
        tunnels: new Set(),
        http2: { requestsPerConnection: options.config.emulator.http2RequestsPerConnection, grpcStatusOnErrors: options.config.emulator.grpcStatusOnErrors },
        responseHeaders: responseHeaderRules(l.attributes, options.config.emulator.modifyLoadBalancerResponses),
      };
      return new Listener(runtime, l.port);
    });
  }

  /** Names of the target groups this load balancer's listeners forward to. */
  targetGroupNames(): string[] {
    const names = new Set<string>();
    for (const l of this.config.listeners) for (const name of forwardedGroups(l)) names.add(name);
    return [...names];
  }

  /**
   * Binds every listener (an HTTPS one once its certificates are read or issued); rejects with
   * `ELB_ERR_LISTEN_FAILED` naming the address, or the certificate error.
   */
  async start(): Promise<void> {
    try {
      for (const [i, l] of this.#listeners.entries()) {
        const config = this.config.listeners[i]!;
        if (config.protocol === 'HTTPS') {
          const frontEnd = await this.#tls.frontEnd({
            loadBalancer: this.name,
            loadBalancerType: 'application',
            sslPolicy: config.sslPolicy,
            certificateArns: (config.certificates ?? []).map((c) => c.certificateArn),
            address: config.address,
            hosts: ruleHosts(config),
          });
          l.useTls(frontEnd);
        }
        await l.listen();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** `http://address:port` of listener `index` (after start). */
  url(index = 0): string {
    const l = this.#listeners[index];
    if (l === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `load balancer ${this.name} has no listener ${index}`);
    return l.url;
  }

  /** The bound ports, in listener order (after start). */
  get ports(): number[] {
    return this.#listeners.map((l) => l.port);
  }

  /** Receives a record for every request once it is over. Returns the unsubscribe function. */
  onRequest(observer: (record: RequestRecord) => void): () => void {
    this.#observers.add(observer);
    this.#updateObserver();
    return () => {
      this.#observers.delete(observer);
      this.#updateObserver();
    };
  }

  attributes(): Readonly<Record<string, string>> {
    return { ...this.#attributes };
  }

  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const resolved = resolveAttributes(applicationLoadBalancerAttributes, changes, 'attributes', this.#attributes);
    if (!resolved.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, resolved.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.#attributes = resolved.attributes;
    this.#settings = applicationLoadBalancerSettings(this.#attributes);
    for (const l of this.#listeners) {
      l.runtime.settings = this.#settings;
      l.runtime.headerOptions = headerOptions(this.#settings, l.runtime.port, l.runtime.protocol, l.runtime.headerOptions.tlsHeaderNames);
    }
    return this.attributes();
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs`, then
   * closes every client and target connection.
   */
  async close(graceMs = 0): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    await Promise.all(this.#listeners.map((l) => l.close(graceMs)));
    this.#pools.close();
    this.#http2.close();
  }

  #updateObserver(): void {
    const observers = [...this.#observers];
    const observer =
      observers.length === 0
        ? undefined
        : (record: RequestRecord) => {
            for (const o of observers) {
              try {
                o(record);
              } catch (err) {
                this.#log.error({ err }, 'request observer threw');
              }
            }
          };
    for (const l of this.#listeners) l.runtime.observer = observer;
  }

  #group(name: string): TargetGroup {
    const group = this.#groups.get(name);
    if (group === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `target group ${name} is not defined`);
    return group;
  }
}

/** The host names a listener's rules match, for a certificate the local CA issues. */
function ruleHosts(l: ListenerConfig): string[] {
  const hosts: string[] = [];
  for (const rule of l.rules) {
    for (const c of rule.conditions) if (c.field === 'host-header') hosts.push(...(c.values ?? c.hostHeaderConfig?.values ?? []));
  }
  return hosts;
}

/** The target groups a listener's forward actions name. */
function forwardedGroups(l: ListenerConfig): string[] {
  const names: string[] = [];
  for (const a of [...l.defaultActions, ...l.rules.flatMap((r) => r.actions)]) {
    if (a.type !== 'forward') continue;
    if (a.targetGroupName) names.push(a.targetGroupName);
    for (const t of a.forwardConfig?.targetGroups ?? []) names.push(t.targetGroupName);
  }
  return names;
}

/** An HTTPS listener's renamed TLS headers (spec 13.3.2), if any. */
function listenerTlsHeaderNames(l: ListenerConfig): TlsHeaderNames | undefined {
  if (l.protocol !== 'HTTPS') return undefined;
  return tlsHeaderNames(l.attributes['routing.http.request.x_amzn_tls_version.header_name'] ?? '', l.attributes['routing.http.request.x_amzn_tls_cipher_suite.header_name'] ?? '');
}

function headerOptions(settings: AlbSettings, listenerPort: number, protocol: 'http' | 'https', tlsNames: TlsHeaderNames | undefined): ForwardHeaderOptions {
  return {
    ...(tlsNames !== undefined ? { tlsHeaderNames: tlsNames } : {}),
    xffMode: settings.xffMode,
    xffClientPort: settings.xffClientPort,
    preserveHost: settings.preserveHost,
    listenerPort,
    protocol,
    tlsHeaders: settings.tlsVersionAndCipherHeaders,
    dropInvalidHeaderFields: settings.dropInvalidHeaderFields,
  };
}
