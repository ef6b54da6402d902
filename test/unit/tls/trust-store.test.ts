/**
 * Trust stores (spec 12.1.7): the CA bundle rules, CRLs, and verify mode's verdicts with the
 * connection log's codes (spec 12.1.8). Certificates are made in the test with @peculiar/x509.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalSerial, parseCaBundle, parseCrl, TrustStore, TrustStoreContentError } from '../../../src/tls/trust-store.ts';
import { issue, issueV1, makeCa, makeCrl, type TestCert } from '../../support/mtls-certs.ts';

const DAY = 24 * 60 * 60 * 1000;
let ca: TestCert;
let other: TestCert;
let pemA: string;

beforeAll(async () => {
  ca = await makeCa('CN=Test Root,O=mTLS');
  other = await makeCa('CN=Other Root');
  pemA = ca.pem;
});

const node = (c: TestCert) => new X509Certificate(c.pem);

function bundleError(text: string): string {
  try {
    parseCaBundle(text, 'ca.pem');
  } catch (err) {
    expect(err).toBeInstanceOf(TrustStoreContentError);
    expect((err as TrustStoreContentError).awsCode).toBe('InvalidCaCertificatesBundle');
    return (err as Error).message;
  }
  throw new Error('the bundle was accepted');
}

describe('CA bundle rules (InvalidCaCertificatesBundle)', () => {
  it('accepts PEM blocks with # comments between them, and CRLF line ends', () => {
    const bundle = parseCaBundle(`# our roots\n${pemA}# and another\n${other.pem}`.replace(/\n/g, '\r\n'), 'ca.pem');
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=Test Root\nO=mTLS', 'CN=Other Root']);
  });

  it.each([
    ['a blank line', () => `${pemA}\n${other.pem}`, /^InvalidCaCertificatesBundle: ca\.pem: line \d+ is blank; a bundle holds no blank lines$/],
    ['a comment holding "-"', () => `# not-allowed\n${pemA}`, /comment line 1 holds a "-"; comment lines start with # and hold no -/],
    ['text outside a block', () => `hello\n${pemA}`, /line 1 is neither a comment \(# …\) nor -----BEGIN CERTIFICATE-----: got "hello"/],
    ['an unterminated block', () => pemA.replace('-----END CERTIFICATE-----\n', ''), /the certificate block from line 1 has no -----END CERTIFICATE-----/],
    ['a non-base64 line in a block', () => pemA.replace(/\n(.{10})/, '\n!!$1'), /line 2, inside the certificate block from line 1, is not base64/],
    ['no certificate at all', () => '# nothing\n', /holds no certificate/],
  ])('refuses %s, naming the file and the rule', (_name, text, message) => {
    expect(bundleError(text())).toMatch(message);
  });

  it('refuses an X.509v1 CA certificate', async () => {
    const v1 = await issueV1(ca, 'CN=v1');
    expect(bundleError(v1.pem)).toMatch(/is X\.509v1; trust stores take X\.509v3 certificates/);
  });

  it('refuses more than 25 certificates', () => {
    expect(bundleError(pemA.repeat(26))).toMatch(/holds 26 certificates; a trust store takes at most 25 CA certificates/);
  });
});

describe('CRLs (InvalidRevocationContent)', () => {
  it('reads a PEM CRL signed by a CA of the store, serials normalised', async () => {
    const r = await parseCrl(await makeCrl(ca, ['0102', '3cab12']), 'crl.pem', [node(ca)], 7);
    expect(r.revocationId).toBe(7);
    expect([...r.serials].sort()).toEqual(['0102', '3CAB12']);
    expect(r.pem).toMatch(/^-----BEGIN X509 CRL-----/);
  });

  it('refuses a CRL no CA of the store signed, and text that is no CRL', async () => {
    await expect(parseCrl(await makeCrl(other, ['01']), 'crl.pem', [node(ca)], 1)).rejects.toThrow(/InvalidRevocationContent: crl\.pem: is not signed by a CA certificate of the trust store \(its issuer: CN=Other Root\)/);
    await expect(parseCrl('hello', 'crl.pem', [node(ca)], 1)).rejects.toThrow(/holds no PEM CRL/);
  });

  it('normalSerial drops leading zero bytes and upper-cases', () => {
    expect([normalSerial('00ff01'), normalSerial('ff01'), normalSerial('1'), normalSerial('00')]).toEqual(['FF01', 'FF01', '01', '00']);
  });
});

describe('verify mode verdicts (connection log codes)', () => {
  const now = Date.now();
  const store = () => new TrustStore('s', parseCaBundle(ca.pem, 'ca.pem'));

  it('accepts a leaf the store CA signed; the path ends at the store CA', async () => {
    const leaf = await issue(ca, 'CN=good');
    const v = store().verify([node(leaf)], now, false);
    expect(v.ok).toBe(true);
    expect(v.path.map((c) => c.subject)).toEqual(['CN=good', 'CN=Test Root\nO=mTLS']);
  });

  it.each<[string, () => Promise<TestCert[]>, string]>([
    ['from another CA', async () => [await issue(other, 'CN=stranger')], 'ClientCertUntrusted'],
    ['expired', async () => [await issue(ca, 'CN=old', { notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) })], 'ClientCertExpired'],
    ['not yet valid', async () => [await issue(ca, 'CN=early', { notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) })], 'ClientCertNotYetValid'],
    ['X.509v1', async () => [await issueV1(ca, 'CN=v1')], 'ClientCertTypeUnsupported'],
  ])('refuses a leaf %s with %s', async (_name, make, failure) => {
    const v = store().verify((await make()).map(node), now, false);
    expect(v).toMatchObject({ ok: false, failure });
  });

  it('accepts an expired leaf with ignoreClientCertificateExpiry, but not a not-yet-valid one', async () => {
    const old = await issue(ca, 'CN=old', { notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) });
    const early = await issue(ca, 'CN=early', { notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) });
    expect(store().verify([node(old)], now, true).ok).toBe(true);
    expect(store().verify([node(early)], now, true)).toMatchObject({ ok: false, failure: 'ClientCertNotYetValid' });
  });

  it('follows intermediates the client sends: depth 4 (leaf, two intermediates, root) passes, 5 is ClientCertMaxChainDepthExceeded', async () => {
    const i1 = await issue(ca, 'CN=i1', { ca: true });
    const i2 = await issue(i1, 'CN=i2', { ca: true });
    const i3 = await issue(i2, 'CN=i3', { ca: true });
    const four = await issue(i2, 'CN=four');
    const five = await issue(i3, 'CN=five');
    expect(store().verify([four, i2, i1].map(node), now, false).ok).toBe(true);
    expect(store().verify([five, i3, i2, i1].map(node), now, false)).toMatchObject({ ok: false, failure: 'ClientCertMaxChainDepthExceeded' });
    // Without the intermediates there is no path to the store.
    expect(store().verify([node(four)], now, false)).toMatchObject({ ok: false, failure: 'ClientCertUntrusted' });
  });

  it('refuses a revoked leaf with ClientCertCrlHit, and accepts the others', async () => {
    const revoked = await issue(ca, 'CN=revoked', { serialNumber: '0abcde' });
    const fine = await issue(ca, 'CN=fine');
    const crl = await parseCrl(await makeCrl(ca, ['0abcde']), 'crl.pem', [node(ca)], 1);
    const s = store().withRevocations([crl]);
    expect(s.verify([node(revoked)], now, false)).toMatchObject({ ok: false, failure: 'ClientCertCrlHit' });
    expect(s.verify([node(fine)], now, false).ok).toBe(true);
    // A CRL past its nextUpdate cannot be used: ClientCertCrlProcessingError.
    expect(s.verify([node(fine)], now + 2 * DAY, false)).toMatchObject({ ok: false, failure: 'ClientCertCrlProcessingError' });
  });

  it('an empty chain (no certificate) is UnmappedConnectionError', () => {
    expect(store().verify([], now, false)).toMatchObject({ ok: false, failure: 'UnmappedConnectionError' });
  });
});
