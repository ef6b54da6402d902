/**
 * The names a certificate from the local CA may carry: DNS names, `*.example.com` wildcards and
 * IP address literals. Validated once here, so the certificate issuer gets only names a TLS
 * client can match, each already sorted into its subjectAltName kind.
 */
import { isIP } from 'node:net';
import { ElbError, ErrorCodes } from '../core/errors.ts';

/** One subjectAltName entry: a DNS name (wildcards included) or an IP address. */
export type CertificateName =
  | { readonly kind: 'dns'; readonly value: string }
  | { readonly kind: 'ip'; readonly value: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_DNS_NAME_LENGTH = 253;

function invalid(value: string, why: string): ElbError {
  return new ElbError(
    ErrorCodes.INVALID_ARGUMENT,
    `certificate name ${JSON.stringify(value)} is not a DNS name, a *.domain wildcard or an IP address: ${why}`,
  );
}

/**
 * An IP literal as clients compare it. IPv6 comes back in its canonical all-hex form (a
 * dotted IPv4 tail such as `::ffff:127.0.0.1` becomes `::ffff:7f00:1`), which is also the only
 * form the certificate encoder reads correctly.
 */
function canonicalIp(value: string): string | undefined {
  const version = isIP(value);
  if (version === 4) return value;
  if (version === 6 && !value.includes('%')) return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  return undefined;
}

function whyNotDnsName(name: string): string | undefined {
  if (name.length > MAX_DNS_NAME_LENGTH) return `longer than ${MAX_DNS_NAME_LENGTH} characters`;
  if (name.endsWith('.')) return 'it ends with "." (write it without the trailing dot)';
  const labels = name.split('.');
  const wildcard = labels[0] === '*';
  if (wildcard && labels.length < 3) return 'a wildcard needs at least two labels after "*." (as in *.example.com)';
  for (const [i, label] of labels.entries()) {
    if (wildcard && i === 0) continue;
    if (label === '') return 'it has an empty label';
    if (label.includes('*')) return '"*" may only be the whole left-most label (as in *.example.com)';
    if (label.length > 63) return `label "${label}" is longer than 63 characters`;
    if (!LABEL.test(label)) return `label "${label}" must be letters, digits and "-", not starting or ending with "-"`;
  }
  if (/^[0-9]+$/.test(labels.at(-1)!)) return 'its last label is a number (an IP address must be four numbers 0–255, or IPv6)';
  return undefined;
}

/** Parses one name; throws ELB_ERR_INVALID_ARGUMENT naming the value and what is wrong with it. */
export function parseCertificateName(value: string): CertificateName {
  if (typeof value !== 'string' || value === '') throw invalid(String(value), 'it is empty');
  if (value.startsWith('[') && value.endsWith(']')) throw invalid(value, 'write an IPv6 address without brackets');
  if (value.includes(':')) {
    const ip = canonicalIp(value);
    if (ip === undefined) throw invalid(value, 'it has ":" but is not an IPv6 address (ports and zone ids are not allowed)');
    return { kind: 'ip', value: ip };
  }
  const ip = canonicalIp(value);
  if (ip !== undefined) return { kind: 'ip', value: ip };
  if (!/^[\x21-\x7e]+$/.test(value)) throw invalid(value, 'use plain ASCII (an internationalised name in its xn-- form), without spaces');
  const name = value.toLowerCase();
  const why = whyNotDnsName(name);
  if (why !== undefined) throw invalid(value, why);
  return { kind: 'dns', value: name };
}

/**
 * Parses a set of names: each validated, duplicates (after lower-casing DNS names and
 * canonicalising IPv6) removed, sorted, so the same set always gives the same list.
 */
export function parseCertificateNames(values: readonly string[]): CertificateName[] {
  if (values.length === 0) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, 'a certificate needs at least one name: got none');
  const byValue = new Map<string, CertificateName>();
  for (const value of values) {
    const name = parseCertificateName(value);
    byValue.set(name.value, name);
  }
  return [...byValue.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}
