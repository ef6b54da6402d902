/**
 * A client certificate as an ALB with mutual TLS describes it (spec 12.1.7, 12.1.8): the
 * `X-Amzn-Mtls-*` header values (URL-encoded PEM, upper-case hex serial, RFC 2253 names,
 * `NotBefore=…;NotAfter=…`) and the connection log's leaf fields. Pure functions over parsed
 * certificates; names come from @peculiar/x509, no ASN.1 is read here.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { X509Certificate } from 'node:crypto';

/**
 * How `X-Amzn-Mtls-Clientcert` and `-Leaf` encode PEM (spec 12.1.7, UNCONFIRMED which one AWS
 * emits): `escape-equals` is the AWS example's form (`=` as `%3D`, `+` and `/` kept; Python's
 * `quote(pem, safe="+/")`), `keep-equals` the AWS text's (`quote(pem, safe="+=/")`).
 */
export type PemHeaderEncoding = 'escape-equals' | 'keep-equals';
export const PEM_HEADER_ENCODINGS: readonly PemHeaderEncoding[] = ['escape-equals', 'keep-equals'];

/** Python's `quote` keeps these always (RFC 3986 unreserved), plus the `safe` set. */
const UNRESERVED = /[A-Za-z0-9_.~-]/;

/** URL-encodes PEM text as the ALB's headers carry it: spaces `%20`, newlines `%0A`, `+` and `/` kept, `=` per `encoding`. */
export function urlEncodePem(pem: string, encoding: PemHeaderEncoding = 'escape-equals'): string {
  let out = '';
  for (const byte of Buffer.from(pem, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(c) || c === '+' || c === '/' || (c === '=' && encoding === 'keep-equals'))) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A DER certificate as PEM, 64 columns, with the trailing newline AWS's examples end in. */
export function certificatePem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** RFC 2253 special characters in an attribute value. */
const DN_SPECIAL = /[,+"\\<>;]/g;

function escapeDnValue(value: string): string {
  if (value.startsWith('#') && /^#[0-9A-Fa-f]*$/.test(value)) return value;
  let v = value.replace(DN_SPECIAL, (c) => `\\${c}`);
  if (v.startsWith(' ') || v.startsWith('#')) v = `\\${v}`;
  if (v.endsWith(' ') && v.length > 1) v = `${v.slice(0, -1)}\\ `;
  return v;
}

/**
 * A distinguished name as RFC 2253 writes it: the last RDN first, `,` between RDNs, `+` inside
 * a multi-valued one, no spaces (`CN=client,OU=client-3,O=mTLS,C=US`, the form of AWS's examples).
 */
export function rfc2253(name: x509.Name): string {
  const rdns = name.toJSON();
  return rdns
    .slice()
    .reverse()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => (values as string[]).map((v) => `${type}=${escapeDnValue(v)}`))
        .join('+'),
    )
    .join(',');
}

/** `2023-09-21T01:50:17Z`: ISO 8601, UTC, whole seconds. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `X-Amzn-Mtls-Clientcert-Validity`: `NotBefore=<ISO 8601>;NotAfter=<ISO 8601>`. */
export function validityValue(notBefore: Date, notAfter: Date): string {
  return `NotBefore=${isoSeconds(notBefore)};NotAfter=${isoSeconds(notAfter)}`;
}

/** The serial as AWS's examples write it: upper-case hex, no `0x`, no separators (even-length padding UNCONFIRMED: Node's, which keeps the DER's bytes). */
export function serialHex(cert: X509Certificate): string {
  return cert.serialNumber.toUpperCase();
}

/** What the headers and the connection log say about the client's certificate (computed once per connection). */
export interface ClientCertificateInfo {
  /** RFC 2253. */
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  /** `NotBefore=…;NotAfter=…`. */
  readonly validity: string;
  /** The leaf, PEM. */
  readonly leafPem: string;
  /** The chain as presented (leaf first), PEM. */
  readonly chainPem: string;
}

/** The leaf's fields and the chain's PEM, from the chain the client presented (leaf first). */
export function clientCertificateInfo(chain: readonly X509Certificate[]): ClientCertificateInfo {
  const leaf = chain[0]!;
  const parsed = new x509.X509Certificate(leaf.raw);
  return {
    subject: rfc2253(parsed.subjectName),
    issuer: rfc2253(parsed.issuerName),
    serialNumber: serialHex(leaf),
    validity: validityValue(leaf.validFromDate, leaf.validToDate),
    leafPem: certificatePem(leaf.raw),
    chainPem: chain.map((c) => certificatePem(c.raw)).join(''),
  };
}
