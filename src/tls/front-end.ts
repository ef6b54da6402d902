/**
 * The TLS side of an HTTPS (ALB) or TLS (NLB) listener: the security policy's versions and
 * ciphers, the default certificate and the certificate list chosen by SNI (spec 12.1.2,
 * 12.6.1), and what the access logs record about each session (spec 8.1 fields 15, 16, 19,
 * 20; 8.2). It builds `tls.Server` options; the listener owns the sockets.
 */
import { constants, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { Clock } from '../core/clock.ts';
import { selectCertificates, type ServerCertificate } from './certificates.ts';
import { clientCertificateInfo, urlEncodePem, type ClientCertificateInfo, type PemHeaderEncoding } from './client-certificate.ts';
import type { ClientCertFailure, TrustStore } from './trust-store.ts';

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
  /** ALB HTTPS listeners in passthrough or verify mode (spec 12.1.7); absent is off. */
  readonly mutualAuthentication?: FrontEndMutualAuthentication;
}

/** Mutual TLS as the front end applies it (the listener's settings with its trust store loaded). */
export interface FrontEndMutualAuthentication {
  readonly mode: 'passthrough' | 'verify';
  /** verify mode: the trust store as it is now (ModifyTrustStore and revocations apply to open listeners). */
  readonly trustStore?: () => TrustStore;
  readonly ignoreClientCertificateExpiry: boolean;
  /** The trust store's CA names go in the CertificateRequest. */
  readonly advertiseTrustStoreCaNames: boolean;
  /** passthrough, no certificate: forward without the header (AWS UNCONFIRMED) or refuse. */
  readonly passthroughWithoutCertificate: 'forward' | 'reject';
  readonly pemEncoding: PemHeaderEncoding;
}

/** The client certificate of a connection on a listener with mutual TLS, and its header values. */
export interface ClientCertificate {
  readonly mode: 'passthrough' | 'verify';
  readonly info: ClientCertificateInfo;
  /** `X-Amzn-Mtls-Clientcert` (passthrough): the presented chain, URL-encoded PEM. */
  readonly chainHeader: string;
  /** `X-Amzn-Mtls-Clientcert-Leaf` (verify): the leaf, URL-encoded PEM. */
  readonly leafHeader: string;
}

/** A mutual TLS outcome: go on (with the certificate, if one came) or refuse the connection with the connection log's code. */
export type ClientCertificateOutcome =
  | { readonly ok: true; readonly certificate: ClientCertificate | undefined }
  | { readonly ok: false; readonly failure: ClientCertFailure; readonly info: ClientCertificateInfo | undefined };

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
  /** Mutual TLS (passthrough or verify) and the client sent a certificate that was accepted. */
  readonly clientCertificate?: ClientCertificate;
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

  get mutualAuthentication(): FrontEndMutualAuthentication | undefined {
    return this.#o.mutualAuthentication;
  }

  /**
   * Options for `tls.createServer` / `new tls.TLSSocket(…, { isServer: true })`. With mutual TLS
   * the client is asked for a certificate and the handshake never refuses one itself: the
   * listener asks `clientCertificate` once it is done (Node sends no alert for a failed check
   * either way). The trust store's CAs are given to OpenSSL only to advertise their names.
   */
  serverOptions(): tls.TlsOptions {
    const { defaultCertificate } = this.#o;
    return {
      ...this.#o.policy,
      ...this.#clientCertificateOptions(),
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

  /** The session of an established socket (with the client certificate mutual TLS accepted). */
  session(socket: tls.TLSSocket, clientCertificate?: ClientCertificate): TlsSession {
    const cipher = socket.getCipher();
    const local = socket.getCertificate() as { fingerprint256?: string } | null;
    const serverName = typeof socket.servername === 'string' && socket.servername !== '' ? socket.servername : undefined;
    return {
      protocol: socket.getProtocol() ?? '-',
      cipher: cipher?.name ?? '-',
      serverName,
      certificateArn: socket.isSessionReused() ? 'session-reused' : (this.#arnByFingerprint.get(local?.fingerprint256 ?? '') ?? this.#o.defaultCertificate.arn),
      ...(clientCertificate !== undefined ? { clientCertificate } : {}),
    };
  }

  /**
   * The certificate an established socket's client presented, judged by the listener's mode
   * (spec 12.1.7): passthrough takes any (none: as `passthroughWithoutCertificate` says);
   * verify checks the chain against the trust store at `nowMs`.
   */
  clientCertificate(socket: tls.TLSSocket, nowMs: number): ClientCertificateOutcome {
    const mtls = this.#o.mutualAuthentication;
    if (mtls === undefined) return { ok: true, certificate: undefined };
    const chain = presentedChain(socket);
    if (chain.length === 0) {
      if (mtls.mode === 'passthrough' && mtls.passthroughWithoutCertificate === 'forward') return { ok: true, certificate: undefined };
      return { ok: false, failure: 'UnmappedConnectionError', info: undefined };
    }
    let info: ClientCertificateInfo;
    try {
      info = clientCertificateInfo(chain);
    } catch {
      return mtls.mode === 'passthrough' ? { ok: true, certificate: undefined } : { ok: false, failure: 'ClientCertInvalid', info: undefined };
    }
    if (mtls.mode === 'verify') {
      const verdict = mtls.trustStore!().verify(chain, nowMs, mtls.ignoreClientCertificateExpiry);
      if (!verdict.ok) return { ok: false, failure: verdict.failure, info };
    }
    return {
      ok: true,
      certificate: { mode: mtls.mode, info, chainHeader: urlEncodePem(info.chainPem, mtls.pemEncoding), leafHeader: urlEncodePem(info.leafPem, mtls.pemEncoding) },
    };
  }

  /**
   * `requestCert` (and the CA names to advertise) for a listener with mutual TLS, and no session
   * resumption: AWS offers none while mutual TLS is on (spec 12.1.7), so every connection shows
   * its certificate. Without tickets Node's server resumes nothing, on TLS 1.2 and 1.3 alike.
   */
  #clientCertificateOptions(): Pick<tls.TlsOptions, 'requestCert' | 'rejectUnauthorized' | 'ca' | 'secureOptions'> {
    const mtls = this.#o.mutualAuthentication;
    if (mtls === undefined) return {};
    return {
      requestCert: true,
      rejectUnauthorized: false,
      secureOptions: constants.SSL_OP_NO_TICKET,
      // The names as the listener started: a TLS context's CA list is fixed once made.
      ...(mtls.advertiseTrustStoreCaNames && mtls.trustStore !== undefined ? { ca: [...mtls.trustStore().caPems] } : {}),
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
      const { ca, secureOptions } = this.#clientCertificateOptions();
      context = tls.createSecureContext({
        ...this.#o.policy,
        ...(ca !== undefined ? { ca } : {}),
        ...(secureOptions !== undefined ? { secureOptions } : {}),
        cert: chosen.map((c) => c.certPem),
        key: chosen.map((c) => c.keyPem),
      });
      this.#contexts.set(key, context);
    }
    return context;
  }
}

/** The certificates the client sent, leaf first, each issued by the next as Node links them (none: an empty list). */
function presentedChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | Record<string, never>;
  const seen = new Set<string>();
  while (cert !== undefined && 'raw' in cert && cert.raw !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    if (cert.issuerCertificate === undefined || cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return chain;
}
