/**
 * What one application load balancer needs for its authenticate actions (spec 13.2): the
 * steps (each rule's authenticate action with the routing action after it, numbered so the
 * authorization `state` can name one), the ES256 key of `x-amzn-oidc-data` (made at start: it
 * rotates only on restart), the key sealing session cookies and `state`, and the local identity
 * provider that stands in for every configured one and also serves the public key. Built by the
 * ApplicationLoadBalancer only when a listener has an authenticate action; the action in
 * ../actions/authenticate.ts reads it.
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import {
  authenticateSettings,
  identityProviderOf,
  type AuthenticateActionConfig,
  type AuthenticationEmulatorConfig,
} from '../../config/authenticate.ts';
import type { ActionConfig } from '../../config/schema.ts';
import { LocalIdentityProvider } from './identity-provider.ts';
import type { IdpClient } from './idp-client.ts';
import { SessionSealer } from './session.ts';
import { createSigningKey, loadBalancerArn, type SigningKey } from './user-claims.ts';

/** One rule's (or default rule's) authenticate action and the routing action it guards. */
export interface AuthenticateStep {
  readonly index: number;
  readonly action: AuthenticateActionConfig;
  readonly settings: ReturnType<typeof authenticateSettings>;
  /** The issuer `x-amzn-oidc-data` names, the client ID and the configured authorization endpoint. */
  readonly provider: ReturnType<typeof identityProviderOf>;
  /** 1–50000, 0 for the default rule (access log `matched_rule_priority` of the callback). */
  readonly priority: number;
  readonly routing: ActionConfig;
}

export interface AlbAuthenticationOptions {
  readonly loadBalancer: string;
  readonly emulator: AuthenticationEmulatorConfig;
  readonly clock: Clock;
  readonly log: Logger;
}

export class AlbAuthentication {
  /** The load balancer's ARN, the JWT header's `signer`. */
  readonly signer: string;
  readonly sealer = new SessionSealer();
  /** `exp` of `x-amzn-oidc-data`, after it is made. */
  readonly oidcDataLifetimeMs: number;
  readonly identityProvider: LocalIdentityProvider;
  readonly #steps: AuthenticateStep[] = [];
  readonly #byAction = new Map<AuthenticateActionConfig, AuthenticateStep>();
  readonly #log: Logger;
  #key: SigningKey | undefined;
  #started: Promise<void> | undefined;

  constructor(options: AlbAuthenticationOptions) {
    this.signer = loadBalancerArn(options.loadBalancer);
    this.oidcDataLifetimeMs = options.emulator.oidcDataLifetimeSeconds * 1000;
    this.#log = options.log;
    const idp = options.emulator.identityProvider;
    this.identityProvider = new LocalIdentityProvider({
      identities: options.emulator.identities,
      signInAs: options.emulator.signInAs,
      address: idp.address,
      port: idp.port,
      accessTokenLifetimeSeconds: idp.accessTokenLifetimeSeconds,
      refreshTokens: idp.refreshTokens,
      clock: options.clock,
      log: options.log.child({ component: 'idp' }),
    });
  }

  /** Numbers an authenticate action (once per action object) for `state`. */
  addStep(action: AuthenticateActionConfig, priority: number, routing: ActionConfig): AuthenticateStep {
    const known = this.#byAction.get(action);
    if (known !== undefined) return known;
    const step: AuthenticateStep = { index: this.#steps.length, action, settings: authenticateSettings(action), provider: identityProviderOf(action), priority, routing };
    this.#steps.push(step);
    this.#byAction.set(action, step);
    const { clientId, clientSecret, issuer } = step.provider;
    this.identityProvider.register({ clientId, clientSecret, issuer });
    return step;
  }

  stepFor(action: AuthenticateActionConfig): AuthenticateStep | undefined {
    return this.#byAction.get(action);
  }

  step(index: number): AuthenticateStep | undefined {
    return this.#steps[index];
  }

  /** The key `x-amzn-oidc-data` is signed with (after start). */
  get key(): SigningKey {
    if (this.#key === undefined) throw new Error('the authentication key is made when the load balancer starts');
    return this.#key;
  }

  /** Where the local identity provider answers, `http://127.0.0.1:<port>` (after start). */
  get identityProviderUrl(): string {
    return this.identityProvider.url;
  }

  /**
   * The base of the public-key URL, as `https://public-keys.auth.elb.<region>.amazonaws.com`
   * is on AWS: an app fetches `<base>/<kid>` for the PEM (after start).
   */
  get publicKeysUrl(): string {
    return this.identityProvider.url;
  }

  /**
   * The local identity provider stands in for the step's configured endpoints: the browser is
   * sent to its authorize page, the load balancer calls its token and user-info endpoints.
   */
  authorizationEndpoint(_step: AuthenticateStep): string {
    return `${this.identityProvider.url}/oauth2/authorize`;
  }

  client(step: AuthenticateStep): IdpClient {
    const base = this.identityProvider.url;
    return { clientId: step.provider.clientId, clientSecret: step.provider.clientSecret, issuer: step.provider.issuer, tokenEndpoint: `${base}/oauth2/token`, userInfoEndpoint: `${base}/oauth2/userInfo` };
  }

  /** Makes the key and starts the identity provider, once (later calls wait for the first). */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#key = await createSigningKey();
    this.identityProvider.publishKey(this.#key.kid, this.#key.publicKeyPem);
    await this.identityProvider.start();
    this.#log.info(
      { event: 'auth.started', identityProvider: this.identityProviderUrl, publicKey: `${this.publicKeysUrl}/${this.#key.kid}` },
      `authentication: local identity provider on ${this.identityProviderUrl}; x-amzn-oidc-data public key at ${this.publicKeysUrl}/${this.#key.kid}`,
    );
  }

  close(): Promise<void> {
    return this.identityProvider.close();
  }
}
