/**
 * The TLS side of an HTTPS (ALB) or TLS (NLB) listener: the security policy's versions and
 * ciphers, the default certificate and the certificate list chosen by SNI (spec 12.1.2,
 * 12.6.1), and what the access logs record about each session (spec 8.1 fields 15, 16, 19,
 * 20; 8.2). It builds `tls.Server` options; the listener owns the sockets.
 */
import tls from 'node:tls';
import type { Clock } from '../core/clock.ts';
import { selectCertificates, type ServerCertificate } from './certificates.ts';

/** What a policy sets on a Node TLS context (see policies.ts). */
export type PolicyOptions = Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'ecdhCurve' | 'honorCipherOrder' | 'sigalgs'>;

export interface TlsFrontEndOptions {
  readonly policyName: string;
  readonly policy: PolicyOptions;
  readonly defaultCertificate: ServerCertificate;
  /** The certificate list (SNI), which may hold the default too. */
  readonly certificates: readonly ServerCertificate[];
  readonly loadBalancerType: 'application' | 'network';
  readonly clock: Clock;
}

/** One established TLS session, as the access logs write it. */
export interface TlsSession {
  /** `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`. */
  readonly protocol: string;
  /** OpenSSL name (`ECDHE-RSA-AES128-GCM-SHA256`; `TLS_AES_128_GCM_SHA256` for TLS 1.3). */
  readonly cipher: string;
  /** The SNI name the client sent, if any. */
  readonly serverName: string | undefined;
  /** The certificate served, or `session-reused` for a resumed session (spec 12.1.2). */
  readonly certificateArn: string;
}

export class TlsFrontEnd {
  readonly policyName: string;
  readonly #o: TlsFrontEndOptions;
  readonly #contexts = new Map<string, tls.SecureContext>();
  readonly #arnByFingerprint = new Map<string, string>();

  constructor(options: TlsFrontEndOptions) {
    this.#o = options;
    this.policyName = options.policyName;
    for (const c of [options.defaultCertificate, ...options.certificates]) {
      if (!this.#arnByFingerprint.has(c.fingerprint256)) this.#arnByFingerprint.set(c.fingerprint256, c.arn);
    }
  }

  /** Options for `tls.createServer` / `new tls.TLSSocket(…, { isServer: true })`. */
  serverOptions(): tls.TlsOptions {
    const { defaultCertificate } = this.#o;
    return {
      ...this.#o.policy,
      cert: defaultCertificate.certPem,
      key: defaultCertificate.keyPem,
      SNICallback: (serverName, done) => {
        try {
          done(null, this.#contextFor(serverName));
        } catch (err) {
          done(err as Error);
        }
      },
    };
  }

  /** The session of an established socket. */
  session(socket: tls.TLSSocket): TlsSession {
    const cipher = socket.getCipher();
    const local = socket.getCertificate() as { fingerprint256?: string } | null;
    const serverName = typeof socket.servername === 'string' && socket.servername !== '' ? socket.servername : undefined;
    return {
      protocol: socket.getProtocol() ?? '-',
      cipher: cipher?.name ?? '-',
      serverName,
      certificateArn: socket.isSessionReused() ? 'session-reused' : (this.#arnByFingerprint.get(local?.fingerprint256 ?? '') ?? this.#o.defaultCertificate.arn),
    };
  }

  /**
   * The certificate SNI selects for `serverName` (the ECDSA one when both key types match), for
   * the NLB access log of a handshake that never finished (spec 8.2 `chosen_cert_arn`).
   */
  certificateArnFor(serverName: string | undefined): string {
    const { defaultCertificate, certificates, loadBalancerType, clock } = this.#o;
    return selectCertificates(defaultCertificate, certificates, serverName, clock.now(), loadBalancerType)[0]!.arn;
  }

  /** The context for an SNI name: the selected certificates (one per key type), cached. */
  #contextFor(serverName: string | undefined): tls.SecureContext {
    const { defaultCertificate, certificates, loadBalancerType, clock } = this.#o;
    const chosen = selectCertificates(defaultCertificate, certificates, serverName, clock.now(), loadBalancerType);
    const key = chosen.map((c) => c.fingerprint256).join(' ');
    let context = this.#contexts.get(key);
    if (context === undefined) {
      context = tls.createSecureContext({ ...this.#o.policy, cert: chosen.map((c) => c.certPem), key: chosen.map((c) => c.keyPem) });
      this.#contexts.set(key, context);
    }
    return context;
  }
}
