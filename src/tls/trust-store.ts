/**
 * ALB trust stores (spec 12.1.7): a CA bundle checked by AWS's bundle rules, CRLs added as
 * revocations with increasing IDs, and the verify-mode check of a client's chain against them,
 * answering with the connection log's `Failed:<code>` names (spec 12.1.8). Certificates are
 * parsed by Node and @peculiar/x509 (and its ASN.1 schema for the version field); nothing here
 * reads ASN.1 by hand.
 */
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Version } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ElbError, ErrorCodes } from '../core/errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

/** Quotas of spec 12.1.7 that a bundle or a revocation list can break. */
export const TRUST_STORE_LIMITS = {
  caCertificates: 25,
  caCertificateBytes: 16 * 1024,
  /** Certificates from the leaf to the trust store's CA, both counted. */
  chainDepth: 4,
  revocationFiles: 30,
  revocationEntries: 500_000,
  crlFileBytes: 50 * 1024 * 1024,
} as const;

/** Why a verify-mode listener refused a client (spec 12.1.8's `Failed:<code>`). */
export type ClientCertFailure =
  | 'ClientCertMaxChainDepthExceeded'
  | 'ClientCertMaxSizeExceeded'
  | 'ClientCertCrlHit'
  | 'ClientCertCrlProcessingError'
  | 'ClientCertUntrusted'
  | 'ClientCertNotYetValid'
  | 'ClientCertExpired'
  | 'ClientCertTypeUnsupported'
  | 'ClientCertInvalid'
  | 'ClientCertPurposeInvalid'
  | 'ClientCertRejected'
  | 'ClientCertIncompatible'
  | 'UnmappedConnectionError';

/** A bundle or a CRL that breaks AWS's rules: `awsCode` is the ELBv2 error (`InvalidCaCertificatesBundle`, `InvalidRevocationContent`, …). */
export class TrustStoreContentError extends ElbError {
  readonly awsCode: 'InvalidCaCertificatesBundle' | 'InvalidRevocationContent' | 'TooManyTrustStoreRevocationEntries' | 'CaCertificatesBundleNotFound' | 'RevocationContentNotFound';

  constructor(awsCode: TrustStoreContentError['awsCode'], message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INVALID_ARGUMENT, `${awsCode}: ${message}`, options);
    this.awsCode = awsCode;
  }
}

/** The X.509 version field: 1, 2 or 3. */
export function certificateVersion(der: Buffer): number {
  const version = AsnConvert.parse(der, Certificate).tbsCertificate.version;
  return version === Version.v1 ? 1 : version === Version.v2 ? 2 : 3;
}

const SIGNATURE_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);
const SIGNATURE_KINDS = new Set(['RSASSA-PKCS1-v1_5', 'ECDSA', 'RSA-PSS']);
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Why a CA certificate cannot be in a trust store (spec 12.1.7's accepted certificates), or undefined. */
function caCertificateProblem(cert: X509Certificate): string | undefined {
  if (certificateVersion(cert.raw) !== 3) return `is X.509v${certificateVersion(cert.raw)}; trust stores take X.509v3 certificates`;
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048 || bits > 8192) return `has an RSA ${bits}-bit key; RSA keys must be 2048–8192 bits`;
  } else if (key.asymmetricKeyType === 'ec') {
    if (!CURVES.has(details.namedCurve ?? '')) return `has an ECDSA key on ${details.namedCurve ?? 'an unknown curve'}; ECDSA keys must be P-256, P-384 or P-521`;
  } else return `has a ${key.asymmetricKeyType ?? 'unknown'} key; trust stores take RSA and ECDSA keys`;
  const alg = new x509.X509Certificate(cert.raw).signatureAlgorithm as { name?: string; hash?: { name?: string } };
  if (!SIGNATURE_KINDS.has(alg.name ?? '') || !SIGNATURE_HASHES.has(alg.hash?.name ?? '')) {
    return `is signed with ${alg.name ?? 'an unknown algorithm'}${alg.hash?.name ? ` and ${alg.hash.name}` : ''}; signatures must be SHA-256, SHA-384 or SHA-512 with RSA, ECDSA or RSASSA-PSS`;
  }
  return undefined;
}

/** A CA bundle's certificates, PEM and parsed. */
export interface CaBundle {
  readonly pems: readonly string[];
  readonly certificates: readonly X509Certificate[];
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const BASE64_LINE = /^[A-Za-z0-9+/=]+$/;

/**
 * Checks a CA bundle by the rules of spec 12.1.7 and returns its certificates; throws
 * TrustStoreContentError (`InvalidCaCertificatesBundle`) naming `where`, the line and the rule.
 * Rules: PEM `CERTIFICATE` blocks; comment lines start with `#` and hold no `-`; no blank lines;
 * X.509v3 RSA 2048–8192 or ECDSA P-256/P-384/P-521, SHA-256/384/512 signatures; at most 25
 * certificates of at most 16 KB each.
 */
export function parseCaBundle(text: string, where: string): CaBundle {
  const fail = (rule: string): never => {
    throw new TrustStoreContentError('InvalidCaCertificatesBundle', `${where}: ${rule}`);
  };
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.at(-1) === '') lines.pop();
  const pems: string[] = [];
  const certificates: X509Certificate[] = [];
  let block: string[] | undefined;
  let blockStart = 0;
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') fail(`line ${n} is blank; a bundle holds no blank lines`);
    if (block === undefined) {
      if (line.startsWith('#')) {
        if (line.includes('-')) fail(`comment line ${n} holds a "-"; comment lines start with # and hold no -`);
        return;
      }
      if (line !== BEGIN) fail(`line ${n} is neither a comment (# …) nor ${BEGIN}: got ${JSON.stringify(line.slice(0, 60))}`);
      block = [line];
      blockStart = n;
      return;
    }
    block.push(line);
    if (line === END) {
      const pem = `${block.join('\n')}\n`;
      block = undefined;
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(pem);
      } catch (err) {
        return fail(`the block at lines ${blockStart}–${n} is not an X.509 certificate (${(err as Error).message})`);
      }
      if (pem.length > TRUST_STORE_LIMITS.caCertificateBytes) fail(`the certificate at line ${blockStart} is ${pem.length} bytes; a CA certificate is at most 16 KB`);
      const problem = caCertificateProblem(cert);
      if (problem !== undefined) fail(`the certificate at line ${blockStart} (${cert.subject.replace(/\n/g, ', ')}) ${problem}`);
      pems.push(pem);
      certificates.push(cert);
    } else if (!BASE64_LINE.test(line)) fail(`line ${n}, inside the certificate block from line ${blockStart}, is not base64 (a PEM block holds base64 lines only)`);
  });
  if (block !== undefined) fail(`the certificate block from line ${blockStart} has no ${END}`);
  if (certificates.length === 0) fail(`holds no certificate; a bundle is PEM ${BEGIN} blocks`);
  if (certificates.length > TRUST_STORE_LIMITS.caCertificates) fail(`holds ${certificates.length} certificates; a trust store takes at most 25 CA certificates`);
  return { pems, certificates };
}

/** A CRL added to a trust store (`AddTrustStoreRevocations`, RevocationType CRL). */
export interface Revocation {
  /** Only increases within a store, never reused (spec 12.1.7). */
  readonly revocationId: number;
  readonly pem: string;
  /** The CA of the store that signed it. */
  readonly issuer: X509Certificate;
  /** Revoked serial numbers, upper-case hex without leading zero bytes (negative ones left out: they cannot be revoked). */
  readonly serials: ReadonlySet<string>;
  readonly nextUpdate: Date | undefined;
}

/** `00FF01` and `ff01` alike → `FF01`. */
export function normalSerial(hex: string): string {
  let s = hex.toUpperCase();
  if (s.length % 2 === 1) s = `0${s}`;
  while (s.length > 2 && s.startsWith('00')) s = s.slice(2);
  return s;
}

/**
 * Reads a PEM CRL and checks it was signed by one of `cas`; throws TrustStoreContentError
 * (`InvalidRevocationContent`) naming `where`.
 */
export async function parseCrl(text: string, where: string, cas: readonly X509Certificate[], revocationId: number): Promise<Revocation> {
  const fail = (rule: string, cause?: unknown): never => {
    throw new TrustStoreContentError('InvalidRevocationContent', `${where}: ${rule}`, { cause });
  };
  if (Buffer.byteLength(text) > TRUST_STORE_LIMITS.crlFileBytes) fail('is over 50 MB; a CRL file is at most 50 MB');
  const m = /-----BEGIN (X509 )?CRL-----[\s\S]*?-----END (X509 )?CRL-----/.exec(text);
  if (m === null) fail('holds no PEM CRL (-----BEGIN X509 CRL-----); revocations are PEM CRLs');
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(m![0].replace(/X509 CRL/g, 'CRL'));
  } catch (err) {
    return fail(`is not a CRL (${(err as Error).message})`, err);
  }
  let issuer: X509Certificate | undefined;
  for (const ca of cas) {
    const candidate = new x509.X509Certificate(ca.raw);
    if (candidate.subjectName.toString() !== crl.issuerName.toString()) continue;
    if (await crl.verify({ publicKey: candidate.publicKey }).catch(() => false)) {
      issuer = ca;
      break;
    }
  }
  if (issuer === undefined) fail(`is not signed by a CA certificate of the trust store (its issuer: ${crl.issuer})`);
  const serials = new Set<string>();
  for (const entry of crl.entries) {
    const hex = entry.serialNumber;
    // A DER INTEGER with its high bit set is negative: such serials cannot be revoked (spec 12.1.7).
    if (/^[89a-f]/i.test(hex)) continue;
    serials.add(normalSerial(hex));
  }
  return { revocationId, pem: m![0].replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----'), issuer: issuer!, serials, nextUpdate: crl.nextUpdate };
}

/** The verify result: the chain checked (leaf first, the store's CA last) or why not. */
export type ChainVerdict = { readonly ok: true; readonly path: readonly X509Certificate[] } | { readonly ok: false; readonly failure: ClientCertFailure; readonly path: readonly X509Certificate[] };

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

function issues(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** One trust store as a listener uses it: its CAs (PEM for `ca`, parsed for checks) and revocations. */
export class TrustStore {
  readonly name: string;
  readonly #bundle: CaBundle;
  #revocations: readonly Revocation[];

  constructor(name: string, bundle: CaBundle, revocations: readonly Revocation[] = []) {
    this.name = name;
    this.#bundle = bundle;
    this.#revocations = revocations;
  }

  get caPems(): readonly string[] {
    return this.#bundle.pems;
  }

  get caCertificates(): readonly X509Certificate[] {
    return this.#bundle.certificates;
  }

  get revocations(): readonly Revocation[] {
    return this.#revocations;
  }

  /** The same store with other revocations (AddTrustStoreRevocations / RemoveTrustStoreRevocations). */
  withRevocations(revocations: readonly Revocation[]): TrustStore {
    return new TrustStore(this.name, this.#bundle, revocations);
  }

  /**
   * Verify mode (spec 12.1.7): the presented chain (leaf first) must lead to a CA of this store
   * through certificates the client sent, at most 4 certificates deep counting the leaf and the
   * CA; every certificate valid at `nowMs` (the leaf's expiry ignored with
   * `ignoreClientCertificateExpiry`); the leaf X.509v3, for client authentication if it says
   * what it is for; none revoked by a CRL of the store.
   */
  verify(presented: readonly X509Certificate[], nowMs: number, ignoreClientCertificateExpiry: boolean): ChainVerdict {
    const leaf = presented[0];
    if (leaf === undefined) return { ok: false, failure: 'UnmappedConnectionError', path: [] };
    const refuse = (failure: ClientCertFailure, path: readonly X509Certificate[]): ChainVerdict => ({ ok: false, failure, path });
    let version: number;
    try {
      version = certificateVersion(leaf.raw);
    } catch {
      return refuse('ClientCertInvalid', [leaf]);
    }
    if (version !== 3) return refuse('ClientCertTypeUnsupported', [leaf]);
    const path: X509Certificate[] = [leaf];
    const cas = this.#bundle.certificates;
    for (;;) {
      const current = path.at(-1)!;
      const anchor = cas.find((ca) => ca.fingerprint256 === current.fingerprint256) ?? cas.find((ca) => issues(current, ca));
      if (anchor !== undefined) {
        if (anchor.fingerprint256 !== current.fingerprint256) path.push(anchor);
        break;
      }
      const next = presented.find((c) => !path.includes(c) && issues(current, c));
      if (next === undefined) return refuse('ClientCertUntrusted', path);
      if (!next.ca) return refuse('ClientCertInvalid', path);
      path.push(next);
      if (path.length > TRUST_STORE_LIMITS.chainDepth + 1) break;
    }
    if (path.length > TRUST_STORE_LIMITS.chainDepth) return refuse('ClientCertMaxChainDepthExceeded', path);
    const eku = leaf.keyUsage;
    if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return refuse('ClientCertPurposeInvalid', path);
    for (const [i, cert] of path.entries()) {
      if (nowMs < cert.validFromDate.getTime()) return refuse('ClientCertNotYetValid', path);
      if (nowMs > cert.validToDate.getTime() && !(i === 0 && ignoreClientCertificateExpiry)) return refuse('ClientCertExpired', path);
    }
    for (let i = 0; i + 1 < path.length; i++) {
      const serial = normalSerial(path[i]!.serialNumber);
      const issuer = path[i + 1]!;
      for (const r of this.#revocations) {
        if (r.issuer.fingerprint256 !== issuer.fingerprint256) continue;
        if (r.nextUpdate !== undefined && r.nextUpdate.getTime() < nowMs) return refuse('ClientCertCrlProcessingError', path);
        if (r.serials.has(serial)) return refuse('ClientCertCrlHit', path);
      }
    }
    return { ok: true, path };
  }
}

/** A trust store as the config file names it (the API's S3 objects are local files here). */
export interface TrustStoreFiles {
  readonly name: string;
  readonly caCertificatesBundleFile: string;
  readonly revocationFiles: readonly string[];
}

/** Reads and checks a trust store's files; throws TrustStoreContentError naming the file and the rule. */
export async function loadTrustStore(files: TrustStoreFiles, where = `trust store ${files.name}`): Promise<TrustStore> {
  const read = async (path: string, awsCode: 'CaCertificatesBundleNotFound' | 'RevocationContentNotFound') => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new TrustStoreContentError(awsCode, `${where}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const bundle = parseCaBundle(await read(files.caCertificatesBundleFile, 'CaCertificatesBundleNotFound'), `${where}: ${files.caCertificatesBundleFile}`);
  if (files.revocationFiles.length > TRUST_STORE_LIMITS.revocationFiles) {
    throw new TrustStoreContentError('TooManyTrustStoreRevocationEntries', `${where}: ${files.revocationFiles.length} CRL files; a trust store takes at most 30`);
  }
  const revocations: Revocation[] = [];
  for (const [i, file] of files.revocationFiles.entries()) {
    revocations.push(await parseCrl(await read(file, 'RevocationContentNotFound'), `${where}: ${file}`, bundle.certificates, i + 1));
  }
  const entries = revocations.reduce((n, r) => n + r.serials.size, 0);
  if (entries > TRUST_STORE_LIMITS.revocationEntries) {
    throw new TrustStoreContentError('TooManyTrustStoreRevocationEntries', `${where}: ${entries} revoked serial numbers; a trust store takes at most 500,000`);
  }
  return new TrustStore(files.name, bundle, revocations);
}
