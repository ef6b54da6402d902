/**
 * The local certificate authority (issue #11): HTTPS and TLS listeners need certificates that
 * the developer's own clients trust, so local-elb keeps one CA per state directory and issues
 * short-lived leaf certificates from it in memory. The user trusts the CA once (`local-elb ca
 * install` prints how); every leaf after that verifies without `-k`.
 *
 * On disk, under the state directory (`~/.local-elb/` by default):
 *   ca/          0700, made in one atomic rename of a finished directory
 *   ca/ca.pem      the CA certificate (0644): what `curl --cacert` and NODE_EXTRA_CA_CERTS read
 *   ca/ca-key.pem  its ECDSA P-256 private key, PKCS#8 PEM (0600)
 * Nothing else is written: leaf keys and certificates live only in the process that asked.
 *
 * Certificates are built with @peculiar/x509 over Node's WebCrypto; no ASN.1 is written here.
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs a Reflect polyfill loaded
// before it (the library's README); imports are evaluated in order.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { parseCertificateNames, type CertificateName } from './names.ts';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

/** Leaf key types; ALB and NLB accept certificates of both. */
export type KeyType = 'ecdsa-p256' | 'rsa-2048';
export const KEY_TYPES: readonly KeyType[] = ['ecdsa-p256', 'rsa-2048'];
export const DEFAULT_KEY_TYPE: KeyType = 'ecdsa-p256';

/** Leaves live 397 days: under the 398 that Apple's clients and the CA/Browser Forum allow. */
export const LEAF_VALIDITY_DAYS = 397;
export const CA_VALIDITY_YEARS = 10;
/** notBefore is set this far in the past, so a client whose clock is a little behind still accepts. */
export const BACKDATE_MS = 60 * 60 * 1000;
/** A cached leaf this close to its notAfter is issued again. */
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const CA_DIR = 'ca';
const CERT_FILE = 'ca.pem';
const KEY_FILE = 'ca-key.pem';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** The CA's key is always P-256, so every certificate it signs is ECDSA with SHA-256. */
const CA_SIGNATURE = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_ALGORITHMS: Record<KeyType, webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams> = {
  'ecdsa-p256': EC_P256,
  'rsa-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
};

/** A leaf certificate and its private key, both PEM, as `tls.createServer({ cert, key })` takes them. */
export interface IssuedCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  /** The subjectAltName entries: validated, lower-cased, IPv6 canonical, duplicates removed, sorted. */
  readonly names: readonly string[];
  readonly keyType: KeyType;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface IssueOptions {
  /** Default `ecdsa-p256`. */
  readonly keyType?: KeyType;
}

/**
 * The CA of one state directory, opened by `openLocalCa`. TLS listeners call `issue` when they
 * start (and again for a new set of names); the CLI reads `certPath`. It never writes leaf
 * certificates or keys to disk, and never touches the CA files after opening them.
 */
export interface LocalCertificateAuthority {
  /** `<stateDir>/ca/ca.pem`: give this to clients (`curl --cacert`, `NODE_EXTRA_CA_CERTS`). */
  readonly certPath: string;
  /** `<stateDir>/ca/ca-key.pem` (mode 0600): whoever reads it can make certificates the CA's trusters accept. */
  readonly keyPath: string;
  readonly certPem: string;
  /** The CA's subject, e.g. `CN=local-elb development CA (alice@laptop), O=local-elb`. */
  readonly subject: string;
  readonly notAfter: Date;
  /**
   * A leaf certificate for these DNS names, `*.domain` wildcards and IP addresses, signed by
   * this CA. The same set of names (in any order) and key type gives the same certificate for
   * the life of the process (until a day before it expires). Rejects with
   * ELB_ERR_INVALID_ARGUMENT naming a value that is not a valid name.
   */
  issue(names: readonly string[], options?: IssueOptions): Promise<IssuedCertificate>;
}

export interface OpenLocalCaOptions {
  /** Epoch milliseconds; validity windows are computed from it. Default `Date.now`. */
  readonly now?: () => number;
}

/** `$LOCAL_ELB_STATE_DIR` when set (resolved against the working directory), else `~/.local-elb`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const fromEnv = env.LOCAL_ELB_STATE_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(home, '.local-elb');
}

interface CaPaths {
  readonly stateDir: string;
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

function caPaths(stateDir: string): CaPaths {
  const dir = join(resolve(stateDir), CA_DIR);
  return { stateDir: resolve(stateDir), dir, cert: join(dir, CERT_FILE), key: join(dir, KEY_FILE) };
}

function caInvalid(paths: CaPaths, problem: string, cause?: unknown): ElbError {
  return new ElbError(
    ErrorCodes.CA_INVALID,
    `the local CA in ${paths.dir} cannot be used: ${problem}. Delete ${paths.dir} and local-elb makes a new CA on next use (trust the new one again: local-elb ca install)`,
    { cause },
  );
}

function stateDirFailed(what: string, cause: unknown): ElbError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new ElbError(ErrorCodes.STATE_DIR_FAILED, `${what}${detail}`, { cause });
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 4.1.2.2: at most 20 octets). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** Whole seconds: X.509 times have no fractions, so the dates reported are the ones encoded. */
function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function caCommonName(): string {
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep the placeholder.
  }
  const prefix = 'local-elb development CA (';
  const who = `${user}@${hostname()}`.slice(0, 64 - prefix.length - 1); // a CN is at most 64 characters
  return `${prefix}${who})`;
}

async function writeFileDurably(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // the mode given to open() is narrowed by the umask
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory so the names in it survive a crash; not possible everywhere (Windows), so best effort. */
async function syncDirectory(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

/**
 * Makes a CA in a private staging directory beside `ca/` and renames it into place. rename(2)
 * onto a directory that is not empty fails, so of processes racing on a fresh machine exactly
 * one CA lands; the others discard theirs and read it. Returns the rename's error when this
 * process lost (or could not rename), for the caller to report if no CA is there after all.
 */
async function createCa(paths: CaPaths, nowMs: number): Promise<unknown> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(wholeSeconds(nowMs) - BACKDATE_MS);
  const notAfter = new Date(wholeSeconds(nowMs));
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [caCommonName()] }, { O: ['local-elb'] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: CA_SIGNATURE,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;

  let staging: string;
  try {
    await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    staging = await mkdtemp(join(paths.stateDir, '.ca-new-')); // mode 0700, which ca/ keeps
  } catch (err) {
    throw stateDirFailed(`cannot create the local CA in ${paths.stateDir}`, err);
  }
  try {
    await writeFileDurably(join(staging, CERT_FILE), cert.toString('pem') + '\n', 0o644);
    await writeFileDurably(join(staging, KEY_FILE), keyPem, 0o600);
    await syncDirectory(staging);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw stateDirFailed(`cannot write the local CA in ${staging}`, err);
  }
  try {
    await rename(staging, paths.dir);
  } catch (err) {
    // ENOTEMPTY/EEXIST (EPERM on Windows): another process's CA is already there.
    await rm(staging, { recursive: true, force: true });
    return err;
  }
  await syncDirectory(paths.stateDir);
  return undefined;
}

interface LoadedCa {
  readonly certPem: string;
  readonly cert: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
  readonly keyId: string;
}

async function readCaFile(paths: CaPaths, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw caInvalid(paths, `${path} is missing`, err);
    throw stateDirFailed(`cannot read ${path}`, err);
  }
}

function parseCertificate(paths: CaPaths, pem: string, nowMs: number): { node: X509Certificate; peculiar: x509.X509Certificate } {
  let node: X509Certificate;
  let peculiar: x509.X509Certificate;
  try {
    node = new X509Certificate(pem);
    peculiar = new x509.X509Certificate(pem);
  } catch (err) {
    throw caInvalid(paths, `${paths.cert} is not a PEM certificate (${(err as Error).message})`, err);
  }
  if (!node.ca) throw caInvalid(paths, `${paths.cert} is not a CA certificate`);
  if (nowMs > node.validToDate.getTime()) throw caInvalid(paths, `${paths.cert} expired on ${node.validToDate.toISOString()}`);
  return { node, peculiar };
}

function parsePrivateKey(paths: CaPaths, pem: string, cert: X509Certificate): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw caInvalid(paths, `${paths.key} is not a PEM private key (${(err as Error).message})`, err);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw caInvalid(paths, `${paths.key} is not an ECDSA P-256 key (local-elb makes only those)`);
  }
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw caInvalid(paths, `${paths.key} is not the key of ${paths.cert}`);
  }
  return key;
}

/** The CA in `paths.dir`; undefined when there is none yet (no directory, or an empty one). */
async function loadCa(paths: CaPaths, nowMs: number): Promise<LoadedCa | undefined> {
  let entries: string[];
  try {
    entries = await readdir(paths.dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    const caIsAFile = await stat(paths.dir).then((s) => !s.isDirectory(), () => false);
    if (caIsAFile) throw caInvalid(paths, `${paths.dir} is not a directory`, err);
    throw stateDirFailed(`cannot use ${paths.stateDir} as local-elb's state directory`, err);
  }
  if (entries.length === 0) return undefined;
  const certPem = await readCaFile(paths, paths.cert);
  const keyPem = await readCaFile(paths, paths.key);
  const cert = parseCertificate(paths, certPem, nowMs);
  const key = parsePrivateKey(paths, keyPem, cert.node);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), EC_P256, false, ['sign']);
  const keyId =
    cert.peculiar.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
    (await x509.SubjectKeyIdentifierExtension.create(cert.peculiar.publicKey)).keyId;
  return { certPem, cert: cert.peculiar, signingKey, keyId };
}

/**
 * Opens the CA of `stateDir`, creating it on first use. Safe to call from several processes at
 * once on a fresh directory: they all end up with the same CA. A CA that cannot be used (a file
 * missing, corrupt, not matching, expired) is ELB_ERR_CA_INVALID naming the file and the fix;
 * a state directory that cannot be written or read is ELB_ERR_STATE_DIR_FAILED.
 */
export async function openLocalCa(stateDir: string, options: OpenLocalCaOptions = {}): Promise<LocalCertificateAuthority> {
  const now = options.now ?? Date.now;
  const paths = caPaths(stateDir);
  let loaded = await loadCa(paths, now());
  if (loaded === undefined) {
    const renameError = await createCa(paths, now());
    loaded = await loadCa(paths, now());
    if (loaded === undefined) throw stateDirFailed(`cannot create the local CA in ${paths.dir}`, renameError);
  }
  return new FileCertificateAuthority(paths, loaded, now);
}

function leafCommonName(names: readonly CertificateName[]): string {
  return names.find((n) => n.value.length <= 64)?.value ?? 'local-elb certificate';
}

class FileCertificateAuthority implements LocalCertificateAuthority {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly subject: string;
  readonly notAfter: Date;
  readonly #paths: CaPaths;
  readonly #ca: LoadedCa;
  readonly #now: () => number;
  /** Key type and sorted names → the leaf (pending or done). */
  readonly #issued = new Map<string, Promise<IssuedCertificate>>();

  constructor(paths: CaPaths, ca: LoadedCa, now: () => number) {
    this.#paths = paths;
    this.#ca = ca;
    this.#now = now;
    this.certPath = paths.cert;
    this.keyPath = paths.key;
    this.certPem = ca.certPem;
    this.subject = ca.cert.subject;
    this.notAfter = ca.cert.notAfter;
  }

  async issue(names: readonly string[], options: IssueOptions = {}): Promise<IssuedCertificate> {
    const keyType = options.keyType ?? DEFAULT_KEY_TYPE;
    if (!KEY_TYPES.includes(keyType)) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `keyType must be one of ${KEY_TYPES.join(', ')}: got ${JSON.stringify(keyType)}`);
    }
    const parsed = parseCertificateNames(names);
    const cacheKey = `${keyType} ${parsed.map((n) => n.value).join(' ')}`;
    for (;;) {
      const cached = this.#issued.get(cacheKey);
      if (cached === undefined) break;
      const certificate = await cached;
      if (this.#now() < certificate.notAfter.getTime() - RENEW_BEFORE_MS) return certificate;
      if (this.#issued.get(cacheKey) === cached) this.#issued.delete(cacheKey);
    }
    const pending = this.#sign(parsed, keyType);
    this.#issued.set(cacheKey, pending);
    pending.catch(() => {
      if (this.#issued.get(cacheKey) === pending) this.#issued.delete(cacheKey);
    });
    return pending;
  }

  async #sign(names: readonly CertificateName[], keyType: KeyType): Promise<IssuedCertificate> {
    const nowMs = wholeSeconds(this.#now());
    if (nowMs > this.notAfter.getTime()) throw caInvalid(this.#paths, `${this.certPath} expired on ${this.notAfter.toISOString()}`);
    const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHMS[keyType], true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const notBefore = new Date(nowMs - BACKDATE_MS);
    // A leaf never outlives its CA.
    const notAfter = new Date(Math.min(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS, this.notAfter.getTime()));
    const usages =
      keyType === 'rsa-2048' ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
    const serialNumber = randomSerialNumber();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber,
      subject: [{ CN: [leafCommonName(names)] }, { O: ['local-elb'] }],
      issuer: this.#ca.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.#ca.signingKey,
      signingAlgorithm: CA_SIGNATURE,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usages, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: n.kind, value: n.value }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        new x509.AuthorityKeyIdentifierExtension(this.#ca.keyId),
      ],
    });
    return {
      certPem: cert.toString('pem') + '\n',
      keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
      names: names.map((n) => n.value),
      keyType,
      serialNumber,
      notBefore,
      notAfter,
    };
  }
}
