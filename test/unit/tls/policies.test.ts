import { createSecureContext, getCiphers } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, isElbError } from '../../../src/core/errors.ts';
import {
  CIPHER_SUITES,
  CONSOLE_DEFAULT_SSL_POLICY,
  DEFAULT_SSL_POLICY,
  SECURITY_POLICIES,
  SslPolicyNotFoundError,
  backendPolicyFor,
  describeSslPolicies,
  nodeTlsOptions,
  sslPolicy,
  type LoadBalancerType,
  type TlsStack,
} from '../../../src/tls/policies.ts';

const P = 'ELBSecurityPolicy-';

// AWS's priority order as DescribeSSLPolicies returns it for ELBSecurityPolicy-2016-08.
const CIPHERS_2016_08 = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA256',
  'AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA256',
  'AES256-SHA',
];
const T13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

function policy(name: string, type: LoadBalancerType = 'network') {
  return sslPolicy(`${P}${name}`, type);
}

describe('the security-policy table (spec 12.1.4)', () => {
  it('holds every name of the spec tables once: 18 TLS/FS, 8 FIPS, 6 PQ, 7 FIPS-PQ, 7 RFC 9151', () => {
    const names = SECURITY_POLICIES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(46);
    const count = (family: string) => SECURITY_POLICIES.filter((p) => p.family === family).length;
    expect([count('tls13') + count('pre-tls13'), count('fips'), count('pq'), count('fips-pq'), count('rfc9151')]).toEqual([18, 8, 6, 7, 7]);
    expect(names.every((name) => name.startsWith(P))).toBe(true);
  });

  it.each([
    ['2016-08', ['TLSv1', 'TLSv1.1', 'TLSv1.2'], [], CIPHERS_2016_08],
    [
      'TLS-1-2-2017-01',
      ['TLSv1.2'],
      [],
      [
        'ECDHE-ECDSA-AES128-GCM-SHA256',
        'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES128-SHA256',
        'ECDHE-RSA-AES128-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
        'ECDHE-RSA-AES256-GCM-SHA384',
        'ECDHE-ECDSA-AES256-SHA384',
        'ECDHE-RSA-AES256-SHA384',
        'AES128-GCM-SHA256',
        'AES128-SHA256',
        'AES256-GCM-SHA384',
        'AES256-SHA256',
      ],
    ],
    [
      'FS-1-2-Res-2020-10',
      ['TLSv1.2'],
      [],
      ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
    ],
    ['FS-1-1-2019-08', ['TLSv1.1', 'TLSv1.2'], [], CIPHERS_2016_08.filter((c) => c.startsWith('ECDHE-'))],
    ['TLS13-1-3-2021-06', ['TLSv1.3'], T13, []],
    [
      'TLS13-1-2-2021-06',
      ['TLSv1.2', 'TLSv1.3'],
      T13,
      [
        'ECDHE-ECDSA-AES128-GCM-SHA256',
        'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES128-SHA256',
        'ECDHE-RSA-AES128-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
        'ECDHE-RSA-AES256-GCM-SHA384',
        'ECDHE-ECDSA-AES256-SHA384',
        'ECDHE-RSA-AES256-SHA384',
      ],
    ],
    ['TLS13-1-0-2021-06', ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'], T13, CIPHERS_2016_08],
    ['TLS13-1-3-FIPS-2023-04', ['TLSv1.3'], ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'], []],
    [
      'TLS13-1-2-Ext0-FIPS-2023-04',
      ['TLSv1.2', 'TLSv1.3'],
      ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'],
      CIPHERS_2016_08.filter((c) => c.startsWith('ECDHE-')),
    ],
    ['TLS-1-0-2015-04', ['TLSv1', 'TLSv1.1', 'TLSv1.2'], [], [...CIPHERS_2016_08, 'DES-CBC3-SHA']],
    ['TLS13-1-2-RFC9151-FIPS-2023-07', ['TLSv1.2', 'TLSv1.3'], ['TLS_AES_256_GCM_SHA384'], ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384']],
  ])('%s: protocols %j, TLS 1.3 suites %j and ciphers in AWS priority order', (name, protocols, tls13, ciphers) => {
    const p = policy(name);
    expect(p.sslProtocols).toEqual(protocols);
    expect(p.tls13CipherSuites).toEqual(tls13);
    expect(p.ciphers).toEqual(ciphers);
  });

  it('lists every cipher by its OpenSSL name, each known to Node’s OpenSSL except DES-CBC3-SHA', () => {
    const known = new Set(CIPHER_SUITES.map((suite) => suite.name));
    for (const p of SECURITY_POLICIES) {
      for (const cipher of [...p.tls13CipherSuites, ...p.ciphers]) expect(known, `${p.name}: ${cipher}`).toContain(cipher);
      expect(p.tls13CipherSuites.every((c) => c.startsWith('TLS_'))).toBe(true);
      expect(p.ciphers.some((c) => c.startsWith('TLS_'))).toBe(false);
    }
    const node = new Set(getCiphers());
    expect(CIPHER_SUITES.filter((suite) => !node.has(suite.name.toLowerCase())).map((suite) => suite.name)).toEqual(['DES-CBC3-SHA']);
  });

  it('orders every policy’s ciphers as the one catalogue order, TLS 1.3 suites first', () => {
    const rank = new Map(CIPHER_SUITES.map((suite, i) => [suite.name, i]));
    for (const p of SECURITY_POLICIES) {
      const ranks = [...p.tls13CipherSuites, ...p.ciphers].map((c) => rank.get(c)!);
      expect(ranks, p.name).toEqual([...ranks].sort((a, b) => a - b));
    }
  });

  it('gives each policy a contiguous, ascending range of versions, TLS 1.3 iff it is a TLS13 name', () => {
    const order = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
    for (const p of SECURITY_POLICIES) {
      const indexes = p.sslProtocols.map((v) => order.indexOf(v));
      expect(indexes, p.name).toEqual(Array.from({ length: indexes.length }, (_, i) => indexes[0]! + i));
      expect(p.sslProtocols.includes('TLSv1.3'), p.name).toBe(p.name.includes('TLS13'));
      expect(p.tls13CipherSuites.length > 0, p.name).toBe(p.sslProtocols.includes('TLSv1.3'));
      expect(p.ciphers.length > 0, p.name).toBe(p.sslProtocols.some((v) => v !== 'TLSv1.3'));
    }
  });

  it('marks FIPS and PQ from the names; FIPS policies have no ChaCha20; FS- policies only ECDHE', () => {
    for (const p of SECURITY_POLICIES) {
      expect(p.fips, p.name).toBe(p.name.includes('FIPS'));
      expect(p.postQuantum, p.name).toBe(p.name.includes('-PQ-'));
      if (p.fips) expect(p.tls13CipherSuites, p.name).not.toContain('TLS_CHACHA20_POLY1305_SHA256');
      if (p.name.startsWith(`${P}FS-`)) expect(p.ciphers.every((c) => c.startsWith('ECDHE-')), p.name).toBe(true);
      if (p.postQuantum) expect(p.keyExchangeGroups.slice(0, 3), p.name).toEqual(['X25519MLKEM768', 'SecP256r1MLKEM768', 'SecP384r1MLKEM1024']);
      else expect(p.keyExchangeGroups.some((g) => g.includes('MLKEM')), p.name).toBe(false);
    }
  });

  it('gives each PQ policy its namesake’s lists, marked unconfirmed (spec 12.1.4 assumption)', () => {
    const pq = SECURITY_POLICIES.filter((p) => p.postQuantum);
    expect(pq).toHaveLength(13);
    for (const p of pq) {
      const namesake = sslPolicy(p.name.replace('-PQ-2025-09', p.fips ? '-2023-04' : '-2021-06'), 'application');
      expect([p.sslProtocols, p.tls13CipherSuites, p.ciphers, p.fips], p.name).toEqual([
        namesake.sslProtocols,
        namesake.tls13CipherSuites,
        namesake.ciphers,
        namesake.fips,
      ]);
      expect(p.confirmed).toBe(false);
      expect(p.notes.join()).toContain('UNCONFIRMED');
    }
  });

  it('keeps RFC 9151 to TLS 1.3 (+1.2 for the 1-2 names) with AES-256-GCM only, unconfirmed', () => {
    const rfc = SECURITY_POLICIES.filter((p) => p.family === 'rfc9151');
    for (const p of rfc) {
      expect(p.sslProtocols, p.name).toEqual(p.name.includes('TLS13-1-3-') ? ['TLSv1.3'] : ['TLSv1.2', 'TLSv1.3']);
      expect([...p.tls13CipherSuites, ...p.ciphers].every((c) => c.includes('AES256-GCM') || c === 'TLS_AES_256_GCM_SHA384'), p.name).toBe(true);
      expect([p.confirmed, p.fips]).toEqual([false, true]);
    }
    expect(SECURITY_POLICIES.filter((p) => !p.confirmed).map((p) => p.family).sort()).toEqual(
      [...Array(7).fill('fips-pq'), ...Array(6).fill('pq'), ...Array(7).fill('rfc9151')].sort(),
    );
  });

  it('offers 2015-05 on network load balancers only (as 2016-08), and flags TLS-1-0-2015-04 as a 2023-guide entry', () => {
    const p2015 = policy('2015-05', 'network');
    expect(p2015.supportedLoadBalancerTypes).toEqual(['network']);
    expect([p2015.sslProtocols, p2015.ciphers]).toEqual([policy('2016-08').sslProtocols, policy('2016-08').ciphers]);
    expect(policy('TLS-1-0-2015-04').listedIn).toBe('2023-guide');
    expect(SECURITY_POLICIES.filter((p) => p.listedIn === '2023-guide').map((p) => p.name)).toEqual([`${P}TLS-1-0-2015-04`]);
    expect(SECURITY_POLICIES.filter((p) => p.supportedLoadBalancerTypes.length !== 2).map((p) => p.name)).toEqual([`${P}2015-05`]);
  });

  it('defaults: 2016-08 for the API, CLI and controller; the console’s TLS13-1-2-Res-PQ-2025-09', () => {
    expect(DEFAULT_SSL_POLICY).toBe('ELBSecurityPolicy-2016-08');
    expect(CONSOLE_DEFAULT_SSL_POLICY).toBe('ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09');
    expect(sslPolicy(DEFAULT_SSL_POLICY, 'application').name).toBe(DEFAULT_SSL_POLICY);
    expect(sslPolicy(CONSOLE_DEFAULT_SSL_POLICY, 'network').postQuantum).toBe(true);
  });
});

describe('sslPolicy: unknown names', () => {
  function thrown(fn: () => unknown): SslPolicyNotFoundError {
    try {
      fn();
    } catch (err) {
      if (err instanceof SslPolicyNotFoundError) return err;
      throw err;
    }
    throw new Error('did not throw');
  }

  it('names the field, the value and every allowed name, with code NOT_FOUND and AWS code SSLPolicyNotFound', () => {
    const err = thrown(() => sslPolicy('ELBSecurityPolicy-TLS13-1-2-2099-01', 'application', 'listeners[0].sslPolicy'));
    expect(isElbError(err, ErrorCodes.NOT_FOUND)).toBe(true);
    expect(err.awsCode).toBe('SSLPolicyNotFound');
    expect(err.message).toMatch(/^listeners\[0\]\.sslPolicy must be one of the 45 security policies for application load balancers: got "ELBSecurityPolicy-TLS13-1-2-2099-01"; allowed: ELBSecurityPolicy-TLS13-1-3-2021-06 \| /);
    expect(err.allowed).toHaveLength(45);
    expect(err.message).toContain('| ELBSecurityPolicy-2016-08 |');
    expect(err.message).not.toContain('2015-05');
  });

  it('refuses a network-only policy on an application load balancer, and says why', () => {
    const err = thrown(() => sslPolicy('ELBSecurityPolicy-2015-05', 'application'));
    expect(err.message).toContain('got "ELBSecurityPolicy-2015-05" (a network-only policy); allowed:');
    expect(sslPolicy('ELBSecurityPolicy-2015-05', 'network').name).toBe('ELBSecurityPolicy-2015-05');
  });

  it('is case-sensitive, as policy names are', () => {
    expect(() => sslPolicy('elbsecuritypolicy-2016-08', 'application')).toThrow(SslPolicyNotFoundError);
  });
});

describe('backendPolicyFor (spec 12.1.3 ALB, 12.6.2 NLB)', () => {
  it.each<[LoadBalancerType, string | undefined, string]>([
    ['application', 'TLS13-1-2-2021-06', 'TLS13-1-0-2021-06'],
    ['application', 'TLS13-1-3-2021-06', 'TLS13-1-0-2021-06'],
    ['application', 'TLS13-1-2-Res-PQ-2025-09', 'TLS13-1-0-2021-06'],
    ['application', 'TLS13-1-2-FIPS-2023-04', 'TLS13-1-0-FIPS-2023-04'],
    ['application', 'TLS13-1-2-Res-FIPS-PQ-2025-09', 'TLS13-1-0-FIPS-2023-04'],
    ['application', 'TLS13-1-3-RFC9151-FIPS-2023-07', 'TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07'],
    ['application', '2016-08', '2016-08'],
    ['application', 'FS-1-2-Res-2020-10', '2016-08'],
    ['application', 'TLS-1-2-2017-01', '2016-08'],
    ['application', undefined, '2016-08'],
    ['network', 'TLS13-1-2-Res-2021-06', 'TLS13-1-0-2021-06'],
    ['network', 'TLS13-1-2-FIPS-2023-04', 'TLS13-1-0-2021-06'],
    ['network', 'TLS13-1-2-RFC9151-FIPS-2023-07', 'TLS13-1-0-2021-06'],
    ['network', '2015-05', '2016-08'],
    ['network', 'FS-2018-06', '2016-08'],
    ['network', undefined, '2016-08'],
  ])('%s load balancer, listener policy %s → back end %s', (type, listener, backend) => {
    expect(backendPolicyFor(listener === undefined ? undefined : `${P}${listener}`, type).name).toBe(`${P}${backend}`);
    if (listener !== undefined) expect(backendPolicyFor(sslPolicy(`${P}${listener}`, type), type).name).toBe(`${P}${backend}`);
  });

  it('refuses an unknown listener policy', () => {
    expect(() => backendPolicyFor('ELBSecurityPolicy-nope', 'application')).toThrow(SslPolicyNotFoundError);
  });
});

describe('describeSslPolicies (DescribeSSLPolicies, spec 14.6.7)', () => {
  it('answers ELBSecurityPolicy-2016-08 as AWS’s documented example does', () => {
    const [described, ...rest] = describeSslPolicies(['ELBSecurityPolicy-2016-08']);
    expect(rest).toEqual([]);
    expect(described).toEqual({
      SslProtocols: ['TLSv1', 'TLSv1.1', 'TLSv1.2'],
      Ciphers: CIPHERS_2016_08.map((Name, i) => ({ Name, Priority: i + 1 })),
      Name: 'ELBSecurityPolicy-2016-08',
      SupportedLoadBalancerTypes: ['application', 'network'],
    });
  });

  it('numbers TLS 1.3 suites first', () => {
    const [described] = describeSslPolicies(['ELBSecurityPolicy-TLS13-1-2-Res-2021-06']);
    expect(described!.Ciphers.slice(0, 4)).toEqual([
      { Name: 'TLS_AES_128_GCM_SHA256', Priority: 1 },
      { Name: 'TLS_AES_256_GCM_SHA384', Priority: 2 },
      { Name: 'TLS_CHACHA20_POLY1305_SHA256', Priority: 3 },
      { Name: 'ECDHE-ECDSA-AES128-GCM-SHA256', Priority: 4 },
    ]);
    expect(described!.SslProtocols).toEqual(['TLSv1.2', 'TLSv1.3']);
  });

  it('lists every policy, or those of one type; gateway load balancers have none', () => {
    expect(describeSslPolicies()).toHaveLength(46);
    expect(describeSslPolicies(undefined, 'application').map((d) => d.Name)).not.toContain('ELBSecurityPolicy-2015-05');
    expect(describeSslPolicies([], 'network')).toHaveLength(46);
    expect(describeSslPolicies(undefined, 'gateway')).toEqual([]);
  });

  it('keeps the order asked, each name once; an unknown name or one the type lacks is SSLPolicyNotFound', () => {
    const names = ['ELBSecurityPolicy-TLS13-1-3-2021-06', 'ELBSecurityPolicy-2016-08', 'ELBSecurityPolicy-TLS13-1-3-2021-06'];
    expect(describeSslPolicies(names).map((d) => d.Name)).toEqual(names.slice(0, 2));
    expect(() => describeSslPolicies(['ELBSecurityPolicy-2016-08', 'nope'])).toThrow(/^Names must be one of the 46 security policies: got "nope"/);
    expect(() => describeSslPolicies(['ELBSecurityPolicy-2015-05'], 'application')).toThrow(SslPolicyNotFoundError);
    expect(() => describeSslPolicies(['ELBSecurityPolicy-2016-08'], 'gateway')).toThrow(/gateway load balancers have no security policies/);
  });
});

describe('nodeTlsOptions', () => {
  const fakeStack = (overrides: Partial<TlsStack> = {}): TlsStack => ({
    description: 'OpenSSL 3.0.0 (test)',
    hasCipher: (name) => name !== 'DES-CBC3-SHA',
    hasGroup: (name) => !name.includes('MLKEM'),
    fips: false,
    ...overrides,
  });

  it('2016-08: TLS 1.0–1.2, the 18 ciphers in order, security level 0 for TLS 1.0/1.1, P-256 and P-384', () => {
    const options = nodeTlsOptions(policy('2016-08'));
    expect(options).toMatchObject({
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      ciphers: `${CIPHERS_2016_08.join(':')}:@SECLEVEL=0`,
      honorCipherOrder: true,
      ecdhCurve: 'secp256r1:secp384r1',
    });
    expect(options.advisory).toEqual([expect.stringContaining('security level 0')]);
  });

  it('TLS13-1-3-2021-06: TLS 1.3 only, its three suites, nothing advisory', () => {
    expect(nodeTlsOptions(policy('TLS13-1-3-2021-06'))).toEqual({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: T13.join(':'),
      honorCipherOrder: true,
      ecdhCurve: 'x25519:secp256r1:secp384r1',
      advisory: [],
    });
  });

  it('leaves a cipher the stack lacks out and says so (DES-CBC3-SHA in TLS-1-0-2015-04)', () => {
    const options = nodeTlsOptions(policy('TLS-1-0-2015-04'), fakeStack());
    expect(options.ciphers).toBe(`${CIPHERS_2016_08.join(':')}:@SECLEVEL=0`);
    expect(options.advisory).toContainEqual(
      'ELBSecurityPolicy-TLS-1-0-2015-04: cipher suites DES-CBC3-SHA not offered: OpenSSL 3.0.0 (test) does not have it',
    );
  });

  it('offers ML-KEM groups for PQ policies when the stack has them, else classical groups and an advisory', () => {
    const pq = policy('TLS13-1-2-Res-PQ-2025-09');
    expect(nodeTlsOptions(pq, fakeStack({ hasGroup: () => true })).ecdhCurve).toBe('X25519MLKEM768:SecP256r1MLKEM768:SecP384r1MLKEM1024:x25519:secp256r1:secp384r1');
    const without = nodeTlsOptions(pq, fakeStack());
    expect(without.ecdhCurve).toBe('x25519:secp256r1:secp384r1');
    expect(without.advisory).toEqual([
      'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09: key-exchange groups X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024 not offered: OpenSSL 3.0.0 (test) does not have them',
    ]);
  });

  it('says a FIPS policy runs without a FIPS module unless the stack has one', () => {
    const fips = policy('TLS13-1-2-Res-FIPS-2023-04');
    expect(nodeTlsOptions(fips, fakeStack()).advisory).toEqual([expect.stringContaining('not running a FIPS module')]);
    expect(nodeTlsOptions(fips, fakeStack({ fips: true })).advisory).toEqual([]);
  });

  it('gives options Node accepts for every policy', () => {
    for (const p of SECURITY_POLICIES) {
      const { advisory: _advisory, ...options } = nodeTlsOptions(p);
      expect(() => createSecureContext(options), p.name).not.toThrow();
    }
  });
});
