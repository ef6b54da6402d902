/**
 * The X-Amzn-Mtls-* header values (spec 12.1.7): URL-encoded PEM in both forms, RFC 2253
 * names, upper-case hex serials, the validity string; and the connection-log line (12.1.8).
 */
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { certificatePem, clientCertificateInfo, rfc2253, urlEncodePem, validityValue } from '../../../src/tls/client-certificate.ts';
import { connectionLogLine, newConnTraceId } from '../../../src/l7/connection-log.ts';
import { issue, makeCa } from '../../support/mtls-certs.ts';

describe('URL-encoded PEM (X-Amzn-Mtls-Clientcert, -Leaf)', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB+/ab==\n-----END CERTIFICATE-----\n';

  it("escape-equals (the default, AWS's example): spaces %20, newlines %0A, = as %3D, + and / kept", () => {
    expect(urlEncodePem(pem)).toBe('-----BEGIN%20CERTIFICATE-----%0AMIIB+/ab%3D%3D%0A-----END%20CERTIFICATE-----%0A');
  });

  it("keep-equals (AWS's text): + = / all kept", () => {
    expect(urlEncodePem(pem, 'keep-equals')).toBe('-----BEGIN%20CERTIFICATE-----%0AMIIB+/ab==%0A-----END%20CERTIFICATE-----%0A');
  });

  it('decodes back to the PEM with decodeURIComponent (not with form rules, which would turn + into a space)', () => {
    expect(decodeURIComponent(urlEncodePem(pem))).toBe(pem);
    expect(new URLSearchParams(`v=${urlEncodePem(pem)}`).get('v')).not.toBe(pem);
  });

  it('certificatePem writes 64-column base64 and a trailing newline', () => {
    const der = Buffer.alloc(100, 7);
    const out = certificatePem(der);
    // 100 bytes are 136 base64 characters: 64 + 64 + 8.
    expect(out.split('\n').map((l) => l.length)).toEqual([27, 64, 64, 8, 25, 0]);
    expect(out.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
  });
});

describe('names, serial and validity', () => {
  it("writes a DN as RFC 2253: last RDN first, no spaces (AWS's example)", () => {
    const name = new x509.Name('C=US, ST=Washington, L=Seattle, O=mTLS, OU=rootCA, CN=rootcamtls.com');
    expect(rfc2253(name)).toBe('CN=rootcamtls.com,OU=rootCA,O=mTLS,L=Seattle,ST=Washington,C=US');
  });

  it('escapes RFC 2253 specials and joins multi-valued RDNs with +', () => {
    expect(rfc2253(new x509.Name([{ CN: ['a,b'], OU: ['x'] }, { O: [' lead"q'] }]))).toBe('O=\\ lead\\"q,CN=a\\,b+OU=x');
  });

  it('writes validity as NotBefore=…;NotAfter=… in whole UTC seconds', () => {
    expect(validityValue(new Date('2023-09-21T01:50:17.123Z'), new Date('2024-09-20T01:50:17Z'))).toBe('NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z');
  });

  it('describes a leaf: upper-case hex serial, issuer and subject, the leaf PEM and the chain PEM', async () => {
    const ca = await makeCa('C=US, O=mTLS, CN=Root');
    const leaf = await issue(ca, 'C=US, O=mTLS, OU=client-3, CN=client_.com', { serialNumber: '03a5b1' });
    const info = clientCertificateInfo([new X509Certificate(leaf.pem), new X509Certificate(ca.pem)]);
    expect(info).toMatchObject({ serialNumber: '03A5B1', issuer: 'CN=Root,O=mTLS,C=US', subject: 'CN=client_.com,OU=client-3,O=mTLS,C=US' });
    expect(info.leafPem).toBe(leaf.pem);
    expect(info.chainPem).toBe(leaf.pem + ca.pem);
    expect(info.validity).toMatch(/^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('connection log line (spec 12.1.8)', () => {
  it("writes the 15 fields in AWS's order for a failed verify-mode handshake", () => {
    const line = connectionLogLine({
      loadBalancer: 'web',
      timeMs: Date.parse('2023-10-04T17:05:15.514Z') + 0.108,
      client: { ip: '203.0.113.1', port: 36280 },
      listenerPort: 443,
      tlsProtocol: 'TLSv1.2',
      tlsCipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      leaf: { subject: 'CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US', validity: 'NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z', serialNumber: 'FEF257372D5C14D4' },
      tlsVerifyStatus: 'Failed:ClientCertUntrusted',
      connTraceId: 'TID_1c71a68d70587445ad5127ff8b2687d7',
      nodeAddress: '127.0.0.1',
    });
    expect(line).toBe(
      '2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 - "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Failed:ClientCertUntrusted TID_1c71a68d70587445ad5127ff8b2687d7 - app/web/local 127.0.0.1',
    );
    expect(line.split(' ')).toHaveLength(15);
  });

  it('writes - for the TLS fields of a plaintext connection, and the latency in seconds with ms', () => {
    const base = { loadBalancer: 'web', timeMs: 0, client: { ip: '127.0.0.1', port: 1 }, listenerPort: 80, connTraceId: 'TID_x', nodeAddress: '127.0.0.1' };
    expect(connectionLogLine(base)).toBe('1970-01-01T00:00:00.000000Z 127.0.0.1 1 80 - - - - - - - TID_x - app/web/local 127.0.0.1');
    expect(connectionLogLine({ ...base, tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_128_GCM_SHA256', tlsHandshakeLatencyMs: 4036.4, tlsVerifyStatus: 'Success' }).split(' ').slice(4, 11)).toEqual([
      'TLSv1.3',
      'TLS_AES_128_GCM_SHA256',
      '4.036',
      '-',
      '-',
      '-',
      'Success',
    ]);
  });

  it('makes conn_trace_id as TID_ and 32 hex digits', () => {
    expect(newConnTraceId()).toMatch(/^TID_[0-9a-f]{32}$/);
  });
});
