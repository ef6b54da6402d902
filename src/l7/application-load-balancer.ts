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
import { bindFallback } from '../core/listen.ts';
import { applicationLoadBalancerAttributes, resolveAttributes } from '../config/attributes.ts';
import type { ListenerChange } from '../config/changes.ts';
import { applicationLoadBalancerSettings } from '../config/settings.ts';
import type { ListenerConfig, LoadBalancerConfig } from '../config/schema.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import { localCaIssuer, TlsProvider } from '../tls/provider.ts';
import { forwardChoice, type ForwardActionConfig, type ForwardChoice } from './actions/forward.ts';
import { mtlsHeaderNames, tlsHeaderNames, type ForwardHeaderOptions, type MtlsHeaderNames, type TlsHeaderNames } from './headers.ts';
import type { ConnectionRecord } from './connection-log.ts';
import { responseHeaderRules } from './response-headers.ts';
import { Listener } from './listener.ts';
import { AlbAuthentication } from './auth/authentication.ts';
import { isAuthenticateAction } from '../config/authenticate.ts';
import { isJwtValidationAction } from '../config/jwt-validation.ts';
import { JwksCache } from './auth/jwks.ts';
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
  #config: LoadBalancerConfig;
  readonly #groups: ReadonlyMap<string, TargetGroup>;
  readonly #log: Logger;
  readonly #pools: TargetPools;
  readonly #http2: Http2Upstream;
  #listeners: Listener[];
  readonly #tls: TlsProvider;
  readonly #observers = new Set<(record: RequestRecord) => void>();
  readonly #connectionObservers = new Set<(record: ConnectionRecord) => void>();
  /** Target group subscriptions (a removed target's pooled connections are dropped), by group. */
  readonly #subscriptions = new Map<TargetGroup, () => void>();
  /** Forward actions' groups, bound once per group object (a group replaced at runtime is bound anew). */
  readonly #forwardGroups = new Map<string, ForwardGroup>();
  #choices = new WeakMap<ForwardActionConfig, ForwardChoice>();
  readonly #clock: Clock;
  readonly #metrics: ElbMetrics;
  readonly #random: Random;
  #attributes: Record<string, string>;
  #settings: AlbSettings;
  /** Made when a listener first has an authenticate action (spec 13.2). */
  #auth: AlbAuthentication | undefined;
  /** Made when a listener first has a jwt-validation action: the JWKS keys every such action shares. */
  #jwks: JwksCache | undefined;

  constructor(options: ApplicationLoadBalancerOptions) {
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics ?? new ElbMetrics();
    this.#random = options.random ?? mathRandom;
    this.name = options.config.name;
    this.#config = options.config;
    this.#groups = options.targetGroups;
    this.#log = (options.logger ?? silentLogger()).child({ loadBalancer: this.name });
    this.#attributes = { ...options.config.attributes };
    this.#settings = applicationLoadBalancerSettings(this.#attributes);
    this.#pools = new TargetPools({ clock: this.#clock, idleTimeoutMs: () => this.#settings.idleTimeoutMs });
    this.#http2 = new Http2Upstream({ clock: this.#clock, idleTimeoutMs: () => this.#settings.idleTimeoutMs });
    this.#tls = options.tls ?? new TlsProvider({ certificates: [], issuer: localCaIssuer(), clock: this.#clock });
    this.#subscribeGroups();
    this.#listeners = options.config.listeners.map((l) => this.#buildListener(l, l.address));
  }

  /** The load balancer's config: its listeners as asked for (a fallback listener's bound address is in `url`). */
  get config(): LoadBalancerConfig {
    return this.#config;
  }

  #resolveGroup(name: string): ForwardGroup {
    const group = this.#group(name);
    let g = this.#forwardGroups.get(name);
    if (g === undefined || g.group !== group) {
      g = {
        group,
        counters: this.#metrics.targetGroupCounters(this.name, name),
        tls: group.config.protocol === 'HTTPS',
        protocolVersion: group.config.protocolVersion ?? 'HTTP1',
      };
      this.#forwardGroups.set(name, g);
    }
    return g;
  }

  readonly #choiceFor = (action: ForwardActionConfig): ForwardChoice => {
    let c = this.#choices.get(action);
    if (c === undefined) {
      c = forwardChoice(action, (name) => this.#resolveGroup(name));
      this.#choices.set(action, c);
    }
    return c;
  };

  /** One listener's runtime and sockets (not yet bound), on `address`. */
  #buildListener(l: ListenerConfig, address: string): Listener {
    const https = l.protocol === 'HTTPS';
    const runtime: ListenerRuntime = {
      loadBalancer: this.name,
      protocol: https ? 'https' : 'http',
      backendTls: this.#tls.backend(https ? l.sslPolicy : undefined, 'application'),
      address,
      port: 0,
      settings: this.#settings,
      headerOptions: headerOptions(this.#settings, 0, https ? 'https' : 'http', listenerTlsHeaderNames(l), listenerMtlsHeaderNames(l)),
      clock: this.#clock,
      log: this.#log,
      rules: compileRules(l),
      counters: this.#metrics.loadBalancerCounters(this.name, 'application'),
      forwardChoice: this.#choiceFor,
      upstream: this.#pools,
      upstreamHttp2: this.#http2,
      random: this.#random,
      observer: undefined,
      connectionObserver: this.#connectionObserver(),
      tunnels: new Set(),
      http2: { requestsPerConnection: this.#config.emulator.http2RequestsPerConnection, grpcStatusOnErrors: this.#config.emulator.grpcStatusOnErrors },
      responseHeaders: responseHeaderRules(l.attributes, this.#config.emulator.modifyLoadBalancerResponses),
      auth: this.#authenticationFor(l),
      jwt: this.#jwtValidationFor(l),
    };
    return new Listener(runtime, l.port);
  }

  /** Each group a listener forwards to drops a removed target's pooled connections; groups no longer used are let go. */
  #subscribeGroups(): void {
    const wanted = new Set(this.targetGroupNames().map((name) => this.#groups.get(name)).filter((g): g is TargetGroup => g !== undefined));
    for (const [group, unsubscribe] of this.#subscriptions) {
      if (wanted.has(group)) continue;
      unsubscribe();
      this.#subscriptions.delete(group);
    }
    for (const group of wanted) {
      if (this.#subscriptions.has(group)) continue;
      this.#subscriptions.set(
        group,
        group.on((e) => {
          if (e.type !== 'target.removed') return;
          this.#pools.drop(e.target.key);
          this.#http2.drop(e.target.key);
        }),
      );
    }
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
      await this.#auth?.start();
      for (const [i, l] of this.#listeners.entries()) {
        await this.#useTls(l, this.#config.listeners[i]!);
        await l.listen();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** An HTTPS listener's front end, once its certificates are read or issued. */
  async #useTls(l: Listener, config: ListenerConfig): Promise<void> {
    if (config.protocol !== 'HTTPS') return;
    const frontEnd = await this.#tls.frontEnd({
      loadBalancer: this.name,
      loadBalancerType: 'application',
      sslPolicy: config.sslPolicy,
      certificateArns: (config.certificates ?? []).map((c) => c.certificateArn),
      address: l.runtime.address,
      hosts: ruleHosts(config),
      ...(config.mutualAuthentication !== undefined
        ? {
            mutualAuthentication: {
              ...config.mutualAuthentication,
              passthroughWithoutCertificate: this.#config.emulator.mtlsPassthroughWithoutCertificate,
              pemEncoding: this.#config.emulator.mtlsPemEncoding,
            },
          }
        : {}),
    });
    l.useTls(frontEnd);
  }

  /** Builds and binds a listener; with `fallback`, on a free port or 127.0.0.1 when its own cannot be bound. */
  async #startListener(config: ListenerConfig, fallback: boolean): Promise<Listener> {
    const listener = this.#buildListener(config, config.address);
    await this.#useTls(listener, config);
    try {
      await listener.listen();
      return listener;
    } catch (err) {
      const next = fallback ? bindFallback(err) : undefined;
      if (next === undefined) throw err;
      this.#log.info({ event: 'listener.fallback', address: config.address, port: config.port, why: next }, `cannot bind ${config.address}:${config.port}; listening on ${next === 'loopback' ? '127.0.0.1' : config.address}, a free port`);
      const other = next === 'loopback' ? this.#buildListener(config, '127.0.0.1') : listener;
      if (other !== listener) await this.#useTls(other, config);
      await other.listen(0);
      return other;
    }
  }

  /**
   * Runtime listener changes (the ELBv2 API, through ElbRuntime.apply): the listeners not in
   * `changes` close, rebound ones close and bind again, new ones bind; the kept ones take their
   * new rules, actions and attributes in place, their connections untouched. `config` is the
   * load balancer's config afterwards. A listener that fails to bind is left out of it, and
   * the first such error is thrown once the rest is done.
   */
  async applyListeners(changes: readonly ListenerChange[], config: LoadBalancerConfig): Promise<void> {
    const kept = new Set(changes.filter((c) => c.from !== undefined && !c.rebind).map((c) => c.from!));
    const old = this.#listeners;
    await Promise.all(old.map((l, i) => (kept.has(i) ? undefined : l.close(0))));
    const listeners: Listener[] = [];
    const configs: ListenerConfig[] = [];
    let failure: unknown;
    for (const change of changes) this.#authenticationFor(change.config);
    await this.#auth?.start();
    for (const change of changes) {
      if (change.from !== undefined && !change.rebind) {
        const l = old[change.from]!;
        l.runtime.rules = compileRules(change.config);
        l.runtime.auth = this.#authenticationFor(change.config);
        l.runtime.jwt = this.#jwtValidationFor(change.config);
        l.runtime.responseHeaders = responseHeaderRules(change.config.attributes, config.emulator.modifyLoadBalancerResponses);
        l.runtime.headerOptions = headerOptions(this.#settings, l.runtime.port, l.runtime.protocol, listenerTlsHeaderNames(change.config), listenerMtlsHeaderNames(change.config));
        listeners.push(l);
        configs.push(change.config);
        continue;
      }
      try {
        listeners.push(await this.#startListener(change.config, change.fallback === true));
        configs.push(change.config);
      } catch (err) {
        failure ??= err;
      }
    }
    this.#listeners = listeners;
    this.#config = { ...config, listeners: configs };
    this.#choices = new WeakMap();
    this.#subscribeGroups();
    this.#updateObserver();
    if (failure !== undefined) throw failure;
  }

  /** A target group this load balancer uses was replaced by another object of the same name (ModifyTargetGroup). */
  targetGroupsChanged(): void {
    this.#choices = new WeakMap();
    this.#subscribeGroups();
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

  /**
   * Receives a record per connection attempt (spec 12.1.8) while the load balancer's
   * `connection_logs.s3.enabled` is "true". Returns the unsubscribe function.
   */
  onConnection(observer: (record: ConnectionRecord) => void): () => void {
    this.#connectionObservers.add(observer);
    this.#updateObserver();
    return () => {
      this.#connectionObservers.delete(observer);
      this.#updateObserver();
    };
  }

  #connectionObserver(): ((record: ConnectionRecord) => void) | undefined {
    const observers = [...this.#connectionObservers];
    if (observers.length === 0) return undefined;
    return (record) => {
      for (const o of observers) {
        try {
          o(record);
        } catch (err) {
          this.#log.error({ err }, 'connection observer threw');
        }
      }
    };
  }

  attributes(): Readonly<Record<string, string>> {
    return { ...this.#attributes };
  }

  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const resolved = resolveAttributes(applicationLoadBalancerAttributes, changes, 'attributes', this.#attributes);
    if (!resolved.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, resolved.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.#attributes = resolved.attributes;
    this.#config = { ...this.#config, attributes: this.#attributes };
    this.#settings = applicationLoadBalancerSettings(this.#attributes);
    for (const l of this.#listeners) {
      l.runtime.settings = this.#settings;
      l.runtime.headerOptions = headerOptions(this.#settings, l.runtime.port, l.runtime.protocol, l.runtime.headerOptions.tlsHeaderNames, l.runtime.headerOptions.mtlsHeaderNames);
    }
    return this.attributes();
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs`, then
   * closes every client and target connection.
   */
  async close(graceMs = 0): Promise<void> {
    for (const unsubscribe of this.#subscriptions.values()) unsubscribe();
    this.#subscriptions.clear();
    await Promise.all(this.#listeners.map((l) => l.close(graceMs)));
    this.#pools.close();
    this.#http2.close();
    await this.#auth?.close();
  }

  /**
   * The authenticate actions' local identity provider and public-key endpoint (README,
   * "Authentication"); undefined when no listener has an authenticate action.
   */
  get authentication(): { readonly identityProviderUrl: string; readonly publicKeysUrl: string; readonly kid: string } | undefined {
    const auth = this.#auth;
    return auth === undefined ? undefined : { identityProviderUrl: auth.identityProviderUrl, publicKeysUrl: auth.publicKeysUrl, kid: auth.key.kid };
  }

  /** The listener's authenticate actions, numbered on the load balancer's AlbAuthentication (made on first need). */
  #authenticationFor(l: ListenerConfig): AlbAuthentication | undefined {
    const steps = [
      ...l.rules.map((r) => ({ priority: r.priority, actions: r.actions })),
      { priority: 0, actions: l.defaultActions },
    ].filter((s) => s.actions.some(isAuthenticateAction));
    if (steps.length === 0) return undefined;
    this.#auth ??= new AlbAuthentication({ loadBalancer: this.name, emulator: this.#config.emulator, clock: this.#clock, log: this.#log });
    for (const { priority, actions } of steps) {
      const routing = [...actions].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).at(-1)!;
      this.#auth.addStep(actions.find(isAuthenticateAction)!, priority, routing);
    }
    return this.#auth;
  }

  /** The JWKS keys and settings for a listener with a jwt-validation action (made on first need); undefined for one without. */
  #jwtValidationFor(l: ListenerConfig): ListenerRuntime['jwt'] {
    if (!l.defaultActions.some(isJwtValidationAction) && !l.rules.some((r) => r.actions.some(isJwtValidationAction))) return undefined;
    const settings = this.#config.emulator.jwtValidation;
    this.#jwks ??= new JwksCache({ clock: this.#clock, cacheMs: settings.jwksCacheSeconds * 1000, timeoutMs: settings.jwksTimeoutMs, trustedCas: () => this.#tls.outgoingTrust() });
    return { jwks: this.#jwks, settings };
  }

  /** Requests made to JWKS endpoints so far (jwt-validation actions); 0 when no listener has one. */
  get jwksFetches(): number {
    return this.#jwks?.fetches ?? 0;
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
    const connectionObserver = this.#connectionObserver();
    for (const l of this.#listeners) {
      l.runtime.observer = observer;
      l.runtime.connectionObserver = connectionObserver;
    }
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

/** An HTTPS listener's renamed mutual TLS headers (spec 12.1.6), if any. */
function listenerMtlsHeaderNames(l: ListenerConfig): MtlsHeaderNames | undefined {
  if (l.protocol !== 'HTTPS') return undefined;
  const a = (key: string) => l.attributes[`routing.http.request.x_amzn_mtls_${key}.header_name`] ?? '';
  return mtlsHeaderNames({
    clientCert: a('clientcert'),
    serialNumber: a('clientcert_serial_number'),
    issuer: a('clientcert_issuer'),
    subject: a('clientcert_subject'),
    validity: a('clientcert_validity'),
    leaf: a('clientcert_leaf'),
  });
}

function headerOptions(settings: AlbSettings, listenerPort: number, protocol: 'http' | 'https', tlsNames: TlsHeaderNames | undefined, mtlsNames?: MtlsHeaderNames): ForwardHeaderOptions {
  return {
    ...(tlsNames !== undefined ? { tlsHeaderNames: tlsNames } : {}),
    ...(mtlsNames !== undefined ? { mtlsHeaderNames: mtlsNames } : {}),
    xffMode: settings.xffMode,
    xffClientPort: settings.xffClientPort,
    preserveHost: settings.preserveHost,
    listenerPort,
    protocol,
    tlsHeaders: settings.tlsVersionAndCipherHeaders,
    dropInvalidHeaderFields: settings.dropInvalidHeaderFields,
  };
}
