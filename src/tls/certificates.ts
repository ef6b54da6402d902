/**
 * Server certificates as ACM would hold them (spec 12.1.1) and the ALB/NLB rules for choosing
 * one by SNI (spec 12.1.2, 12.6.1). A certificate is either your own PEM files, mapped to an
 * ARN in the config's `certificates:`, or issued on first use by the local certificate
 * authority for the names a listener answers to.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { ElbError, ErrorCodes } from '../core/errors.ts';

export type KeyAlgorithm = 'ecdsa' | 'rsa';

export interface ServerCertificate {
  readonly arn: string;
  /** The certificate and its chain, PEM. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly keyAlgorithm: KeyAlgorithm;
  /** RSA modulus bits; ECDSA curve size (256, 384, 521). */
  readonly keyBits: number;
  /** Hash of the signature algorithm, in bits (`sha256` → 256; MD5 → 0). */
  readonly signatureHashBits: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The leaf's SHA-256 fingerprint, as `X509Certificate#fingerprint256` writes it. */
  readonly fingerprint256: string;
  /** The names it is for (SAN DNS names and IP addresses), for messages and tools. */
  readonly names: readonly string[];
  readonly x509: X509Certificate;
}

/** Where certificates that are not your files come from (the local CA, opened on first use). */
export type CertificateIssuer = (names: readonly string[]) => Promise<{ certPem: string; keyPem: string }>;

export interface CertificateFile {
  readonly certificateArn: string;
  readonly certificateFile: string;
  readonly privateKeyFile: string;
}

/** Reads PEM text into a ServerCertificate; `where` names the source in errors. */
export function serverCertificate(arn: string, certPem: string, keyPem: string, where: string): ServerCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (err) {
    throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `${where}: not a PEM certificate (${(err as Error).message})`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `${where}: not an unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(key)) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `${where}: the private key does not belong to the certificate`);
  const type = x509.publicKey.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') {
    throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `${where}: a ${type ?? 'unknown'} key; load balancers take RSA and ECDSA certificates (spec 12.1.1)`);
  }
  const details = x509.publicKey.asymmetricKeyDetails ?? {};
  const keyBits = type === 'rsa' ? (details.modulusLength ?? 0) : curveBits(details.namedCurve);
  return {
    arn,
    certPem,
    keyPem,
    keyAlgorithm: type === 'ec' ? 'ecdsa' : 'rsa',
    keyBits,
    signatureHashBits: hashBits(x509.signatureAlgorithm ?? ''),
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    fingerprint256: x509.fingerprint256,
    names: sanNames(x509),
    x509,
  };
}

function curveBits(curve: string | undefined): number {
  switch (curve) {
    case 'prime256v1':
      return 256;
    case 'secp384r1':
      return 384;
    case 'secp521r1':
      return 521;
    default:
      return 0;
  }
}

function hashBits(signatureAlgorithm: string): number {
  const lower = signatureAlgorithm.toLowerCase();
  if (lower.includes('md5')) return 0;
  const sha = /sha-?(\d+)/.exec(lower);
  if (sha) return sha[1] === '1' ? 160 : Number(sha[1]);
  return lower.includes('sha1') ? 160 : 0;
}

/** SAN DNS names and IP addresses; the subject CN when there is no SAN. */
function sanNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  if (san === undefined) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
    return cn ? [cn] : [];
  }
  return san
    .split(', ')
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
    .filter((name) => name.length > 0);
}

/**
 * True when the certificate covers `host` as a TLS client checks it: a SAN DNS name equal to
 * it (case-insensitive), or a left-most single-label wildcard (`*.example.com` covers
 * `a.example.com`, not `a.b.example.com` nor `example.com`), or an IP address SAN.
 */
export function certificateMatches(cert: ServerCertificate, host: string): boolean {
  if (isIP(host) !== 0) return cert.x509.checkIP(host) !== undefined;
  return cert.x509.checkHost(host, { subject: 'default', wildcards: true, partialWildcards: false, multiLabelWildcards: false, singleLabelSubdomains: false }) !== undefined;
}

/**
 * The order among several certificates that match a name (spec 12.1.2 for ALB: expiry, hash,
 * key length, validity; 12.6.1 for NLB: the same without the expiry step). The key type
 * (ECDSA before RSA when the client can use it) is left to the TLS stack: one certificate of
 * each type goes into the context and OpenSSL serves the one the client's handshake allows.
 */
export function rankCertificates(certificates: readonly ServerCertificate[], nowMs: number, loadBalancerType: 'application' | 'network'): ServerCertificate[] {
  const expired = (c: ServerCertificate) => (c.notAfter.getTime() < nowMs ? 1 : 0);
  return [...certificates].sort(
    (a, b) =>
      (loadBalancerType === 'application' ? expired(a) - expired(b) : 0) ||
      b.signatureHashBits - a.signatureHashBits ||
      b.keyBits - a.keyBits ||
      // "Validity period" (UNCONFIRMED which way): the one valid longest into the future first.
      b.notAfter.getTime() - a.notAfter.getTime(),
  );
}

/**
 * What SNI selects (spec 12.1.2): no SNI, or nothing in the list matching, → the default
 * certificate; otherwise the best match of each key type (at most one ECDSA and one RSA).
 */
export function selectCertificates(
  defaultCertificate: ServerCertificate,
  list: readonly ServerCertificate[],
  serverName: string | undefined,
  nowMs: number,
  loadBalancerType: 'application' | 'network',
): readonly ServerCertificate[] {
  if (serverName === undefined || serverName === '') return [defaultCertificate];
  const matching = rankCertificates(
    list.filter((c) => certificateMatches(c, serverName)),
    nowMs,
    loadBalancerType,
  );
  if (matching.length === 0) return [defaultCertificate];
  const ecdsa = matching.find((c) => c.keyAlgorithm === 'ecdsa');
  const rsa = matching.find((c) => c.keyAlgorithm === 'rsa');
  return [ecdsa, rsa].filter((c): c is ServerCertificate => c !== undefined);
}

/**
 * Resolves certificate ARNs: your PEM files first (read once), else a certificate the issuer
 * makes for the names the listener answers to. Errors name the ARN and the file.
 */
export class CertificateStore {
  readonly #files: ReadonlyMap<string, CertificateFile>;
  readonly #issuer: CertificateIssuer;
  readonly #resolved = new Map<string, Promise<ServerCertificate>>();

  constructor(files: readonly CertificateFile[], issuer: CertificateIssuer) {
    this.#files = new Map(files.map((f) => [f.certificateArn, f]));
    this.#issuer = issuer;
  }

  /** True when `arn` is one of your files (not issued locally). */
  isFile(arn: string): boolean {
    return this.#files.has(arn);
  }

  /** The certificate for `arn`; `names` are what an issued one covers. */
  resolve(arn: string, names: readonly string[]): Promise<ServerCertificate> {
    const file = this.#files.get(arn);
    const key = file !== undefined ? arn : `${arn}\n${[...names].sort().join(',')}`;
    let pending = this.#resolved.get(key);
    if (pending === undefined) {
      pending = file !== undefined ? this.#read(file) : this.#issue(arn, names);
      this.#resolved.set(key, pending);
      pending.catch(() => this.#resolved.delete(key));
    }
    return pending;
  }

  async #read(file: CertificateFile): Promise<ServerCertificate> {
    const read = async (path: string, field: string) => {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        throw new ElbError(
          ErrorCodes.INVALID_ARGUMENT,
          `certificate ${file.certificateArn}: cannot read ${field} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        );
      }
    };
    const [cert, key] = await Promise.all([read(file.certificateFile, 'certificateFile'), read(file.privateKeyFile, 'privateKeyFile')]);
    return serverCertificate(file.certificateArn, cert, key, `certificate ${file.certificateArn} (${file.certificateFile})`);
  }

  async #issue(arn: string, names: readonly string[]): Promise<ServerCertificate> {
    const issued = await this.#issuer(names);
    return serverCertificate(arn, issued.certPem, issued.keyPem, `certificate ${arn} (issued by the local CA)`);
  }
}

/**
 * The names a listener's issued certificate covers: `localhost`, `*.localtest.me` (every name
 * under it resolves to 127.0.0.1), the listener's address, and the host names its rules or
 * Ingress hosts name that a certificate can hold (plain names and `*.x.y` wildcards).
 */
export function listenerNames(address: string, hosts: readonly string[]): string[] {
  const names = new Set<string>(['localhost', '*.localtest.me']);
  if (address !== '0.0.0.0' && address !== '::') names.add(address);
  else names.add('127.0.0.1');
  for (const raw of hosts) {
    const host = raw.toLowerCase().replace(/:\d+$/, '');
    if (/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host) && !host.includes('?')) names.add(host);
  }
  return [...names];
}
