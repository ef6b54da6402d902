/**
 * Certificates for mutual TLS tests, made with @peculiar/x509 over WebCrypto: CAs,
 * intermediates, client leaves (valid, expired, not yet valid, any serial), CRLs in PEM
 * (`-----BEGIN X509 CRL-----`, as OpenSSL writes them) and an X.509v1 leaf (built with the
 * library's own ASN.1 schema, since its generator makes v3 only).
 */
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, TBSCertificate, Validity, Version, AlgorithmIdentifier, SubjectPublicKeyInfo, Name as AsnName } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface TestCert {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  /** PEM with a trailing newline. */
  readonly pem: string;
  readonly keyPem: string;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')}\n`;
}

async function finish(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<TestCert> {
  return { cert, keys, pem: `${cert.toString('pem')}\n`, keyPem: await keyPem(keys.privateKey) };
}

let serial = 0x101000;
/** Positive, without a leading zero byte (a DER INTEGER's rule). */
const nextSerial = () => (serial++).toString(16);

/** A self-signed CA. */
export async function makeCa(name: string): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return finish(cert, keys);
}

export interface LeafOptions {
  readonly serialNumber?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** An intermediate CA instead of a leaf. */
  readonly ca?: boolean;
}

/** A certificate for `subject` signed by `issuer`. */
export async function issue(issuer: TestCert, subject: string, options: LeafOptions = {}): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? nextSerial(),
    subject,
    issuer: issuer.cert.subject,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: options.ca
      ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)]
      : [new x509.BasicConstraintsExtension(false), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  return finish(cert, keys);
}

/** A PEM CRL from `issuer` revoking `serials` (hex), valid for a day. */
export async function makeCrl(issuer: TestCert, serials: readonly string[]): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    signingAlgorithm: ALG,
    signingKey: issuer.keys.privateKey,
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: new Date(Date.now() + DAY),
    entries: serials.map((serialNumber) => ({ serialNumber })),
  });
  return `${crl.toString('pem').replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----')}\n`;
}

/** An X.509v1 leaf (no extensions) for `subject` signed by `issuer`. */
export async function issueV1(issuer: TestCert, subject: string): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  const signature = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }); // ecdsa-with-SHA256
  const tbs = new TBSCertificate({
    version: Version.v1,
    serialNumber: Uint8Array.from(Buffer.from(nextSerial(), 'hex')).buffer,
    signature,
    issuer: AsnConvert.parse(issuer.cert.subjectName.toArrayBuffer(), AsnName),
    validity: new Validity({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) }),
    subject: AsnConvert.parse(new x509.Name(subject).toArrayBuffer(), AsnName),
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const raw = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, issuer.keys.privateKey, tbsDer);
  // WebCrypto signs in IEEE P1363 form; X.509 wants the DER ECDSA-Sig-Value.
  const der = new x509.AsnEcSignatureFormatter().toAsnSignature({ name: 'ECDSA', hash: 'SHA-256', namedCurve: 'P-256' } as unknown as Parameters<x509.AsnEcSignatureFormatter['toAsnSignature']>[0], raw)!;
  const certificate = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: signature, signatureValue: der });
  const cert = new x509.X509Certificate(AsnConvert.serialize(certificate));
  return finish(cert, keys);
}

/** Concatenated PEM of a chain (leaf first), as a client's `cert` option takes it. */
export function chainPem(...certs: readonly TestCert[]): string {
  return certs.map((c) => c.pem).join('');
}
