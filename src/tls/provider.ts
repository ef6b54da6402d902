/**
 * What a load balancer's secure listeners need from TLS, built once per runtime: a front end
 * per HTTPS/TLS listener (policy, default certificate, SNI list) and the back-end TLS for
 * HTTPS/TLS target groups (spec 12.1.3, 12.2, 12.6.2). Certificates come from your files or
 * from the local CA, which is opened only when a certificate has to be issued.
 */
import tls from 'node:tls';
import type { Clock } from '../core/clock.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { defaultStateDir, openLocalCa, type LocalCertificateAuthority } from './ca.ts';
import { CertificateStore, listenerNames, type CertificateFile, type CertificateIssuer } from './certificates.ts';
import { TlsFrontEnd, type FrontEndMutualAuthentication } from './front-end.ts';
import { backendPolicyFor, DEFAULT_SSL_POLICY, nodeTlsOptions, sslPolicy } from './policies.ts';
import type { PemHeaderEncoding } from './client-certificate.ts';
import { loadTrustStore, type TrustStore, type TrustStoreFiles } from './trust-store.ts';

export interface TlsProviderOptions {
  /** Certificate ARNs mapped to PEM files (the config's `certificates:`). */
  readonly certificates: readonly CertificateFile[];
  /** Issues the certificates no file provides (the local CA; tests give their own). */
  readonly issuer: CertificateIssuer;
  readonly clock: Clock;
  /** Trust stores by name (the config's `trustStores:`), read when a verify-mode listener first needs one. */
  readonly trustStores?: readonly TrustStoreFiles[];
  /** Where the local CA lives (default `~/.local-elb`): outgoing https the load balancer makes itself (JWKS endpoints) trusts it. */
  readonly stateDir?: string;
}

/** A listener's mutual TLS as the config has it (spec 12.1.7), with the emulator's two choices. */
export interface ListenerMutualAuthentication {
  readonly mode: 'off' | 'passthrough' | 'verify';
  readonly trustStore?: string;
  readonly ignoreClientCertificateExpiry: boolean;
  readonly advertiseTrustStoreCaNames: 'on' | 'off';
  readonly passthroughWithoutCertificate: 'forward' | 'reject';
  readonly pemEncoding: PemHeaderEncoding;
}

/** An HTTPS (ALB) or TLS (NLB) listener, as far as TLS is concerned. */
export interface SecureListener {
  readonly loadBalancer: string;
  readonly loadBalancerType: 'application' | 'network';
  readonly sslPolicy: string | undefined;
  /** The first is the default certificate; none: one issued for the listener's names. */
  readonly certificateArns: readonly string[];
  /** The address the listener binds (it goes into an issued certificate). */
  readonly address: string;
  /** Host names its rules (or Ingress) name, for an issued certificate. */
  readonly hosts: readonly string[];
  /** ALB HTTPS listeners: mutual TLS. */
  readonly mutualAuthentication?: ListenerMutualAuthentication;
}

/** TLS towards HTTPS/TLS targets: options for `tls.connect`, and the policy's name as a key. */
export interface BackendTlsOptions {
  readonly key: string;
  readonly options: tls.ConnectionOptions;
}

let healthCheckOptions: tls.ConnectionOptions | undefined;

/**
 * TLS for HTTPS health checks: `ELBSecurityPolicy-2016-08` (spec 2.4; so a target that speaks
 * only TLS 1.3 fails them, as on AWS), no certificate checks, no SNI.
 */
export function healthCheckTls(): tls.ConnectionOptions {
  if (healthCheckOptions === undefined) {
    const { advisory: _advisory, honorCipherOrder: _order, ...options } = nodeTlsOptions(sslPolicy(DEFAULT_SSL_POLICY, 'application'));
    healthCheckOptions = { ...options, rejectUnauthorized: false, servername: '' };
  }
  return healthCheckOptions;
}

/** The ARN an issued certificate gets when a listener names none. */
export function localCertificateArn(loadBalancer: string): string {
  return `arn:aws:acm:local:000000000000:certificate/local-elb-${loadBalancer}`;
}

/**
 * Issues from the local CA under `stateDir` (default `~/.local-elb`, or `$LOCAL_ELB_STATE_DIR`),
 * opened (and on first use created) the first time a certificate is needed.
 */
export function localCaIssuer(stateDir?: string): CertificateIssuer {
  let ca: Promise<LocalCertificateAuthority> | undefined;
  return async (names) => {
    ca ??= openLocalCa(stateDir ?? defaultStateDir());
    ca.catch(() => (ca = undefined));
    return (await ca).issue(names);
  };
}

export class TlsProvider {
  readonly #store: CertificateStore;
  readonly #clock: Clock;
  readonly #backends = new Map<string, BackendTlsOptions>();
  #trustStoreFiles = new Map<string, TrustStoreFiles>();
  readonly #trustStores = new Map<string, Promise<TrustStore>>();
  /** The stores read so far, by name: what verify-mode listeners check against. */
  readonly #loaded = new Map<string, TrustStore>();

  readonly #stateDir: string | undefined;

  constructor(options: TlsProviderOptions) {
    this.#store = new CertificateStore(options.certificates, options.issuer);
    this.#clock = options.clock;
    this.#stateDir = options.stateDir;
    this.#trustStoreFiles = new Map((options.trustStores ?? []).map((f) => [f.name, f]));
  }

  /**
   * The trust stores from now on: a changed one that listeners use is read again now (so they
   * check against its new bundle and CRLs; a bad file rejects, naming it), a removed one is let go.
   */
  async setTrustStores(files: readonly TrustStoreFiles[]): Promise<void> {
    const next = new Map(files.map((f) => [f.name, f]));
    const reload: string[] = [];
    for (const [name, old] of this.#trustStoreFiles) {
      const now = next.get(name);
      if (now !== undefined && JSON.stringify(now) === JSON.stringify(old)) continue;
      this.#trustStores.delete(name);
      if (now === undefined) this.#loaded.delete(name);
      else if (this.#loaded.has(name)) reload.push(name);
    }
    this.#trustStoreFiles = next;
    await Promise.all(reload.map((name) => this.trustStore(name)));
  }

  /**
   * The CA certificates https requests the load balancer makes on its own (JWKS endpoints of
   * jwt-validation actions) chain to: the system's roots and the local CA (opened, and made on
   * first use, under the state directory).
   */
  async outgoingTrust(): Promise<readonly string[]> {
    const ca = await openLocalCa(this.#stateDir ?? defaultStateDir());
    return [...tls.rootCertificates, ca.certPem];
  }

  /** A trust store given by `setTrustStores` or made in memory (the ELBv2 API), read and checked once. */
  trustStore(name: string): Promise<TrustStore> {
    let store = this.#trustStores.get(name);
    if (store === undefined) {
      const files = this.#trustStoreFiles.get(name);
      if (files === undefined) return Promise.reject(new ElbError(ErrorCodes.NOT_FOUND, `TrustStoreNotFound: trust store ${JSON.stringify(name)} is not defined; defined: ${[...this.#trustStoreFiles.keys()].join(', ') || 'none'}`));
      store = loadTrustStore(files).then((loaded) => {
        this.#loaded.set(name, loaded);
        return loaded;
      });
      store.catch(() => this.#trustStores.delete(name));
      this.#trustStores.set(name, store);
    }
    return store;
  }


  /** The front end of one secure listener: resolves (or issues) its certificates. */
  async frontEnd(listener: SecureListener): Promise<TlsFrontEnd> {
    const policyName = listener.sslPolicy ?? DEFAULT_SSL_POLICY;
    const { advisory: _advisory, ...policy } = nodeTlsOptions(sslPolicy(policyName, listener.loadBalancerType));
    const names = listenerNames(listener.address, listener.hosts);
    const arns = listener.certificateArns.length > 0 ? listener.certificateArns : [localCertificateArn(listener.loadBalancer)];
    const certificates = await Promise.all(arns.map((arn) => this.#store.resolve(arn, names)));
    const mutualAuthentication = await this.#mutualAuthentication(listener.mutualAuthentication);
    return new TlsFrontEnd({
      ...(mutualAuthentication !== undefined ? { mutualAuthentication } : {}),
      policyName,
      policy,
      defaultCertificate: certificates[0]!,
      // As the Load Balancer Controller does with certificate-arn, the others form the list;
      // the default goes in too, so SNI can pick it among others by name.
      certificates,
      loadBalancerType: listener.loadBalancerType,
      clock: this.#clock,
    });
  }

  async #mutualAuthentication(m: ListenerMutualAuthentication | undefined): Promise<FrontEndMutualAuthentication | undefined> {
    if (m === undefined || m.mode === 'off') return undefined;
    const name = m.mode === 'verify' ? m.trustStore : undefined;
    if (name !== undefined) await this.trustStore(name);
    return {
      mode: m.mode,
      ...(name !== undefined ? { trustStore: () => this.#loaded.get(name)! } : {}),
      ignoreClientCertificateExpiry: m.ignoreClientCertificateExpiry,
      advertiseTrustStoreCaNames: m.advertiseTrustStoreCaNames === 'on',
      passthroughWithoutCertificate: m.passthroughWithoutCertificate,
      pemEncoding: m.pemEncoding,
    };
  }

  /**
   * TLS to targets for a listener with `sslPolicy` (undefined: a plaintext listener), or for
   * health checks (`ELBSecurityPolicy-2016-08`, spec 2.4): the back-end policy, no certificate
   * checks, no SNI.
   */
  backend(listenerPolicy: string | undefined, loadBalancerType: 'application' | 'network'): BackendTlsOptions {
    const policy = backendPolicyFor(listenerPolicy, loadBalancerType);
    let backend = this.#backends.get(policy.name);
    if (backend === undefined) {
      const { advisory: _advisory, honorCipherOrder: _order, ...options } = nodeTlsOptions(policy);
      backend = { key: policy.name, options: { ...options, rejectUnauthorized: false, servername: '' } };
      this.#backends.set(policy.name, backend);
    }
    return backend;
  }
}
