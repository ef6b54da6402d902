/**
 * The ELB security-policy catalogue (spec 12.1.3, 12.1.4, 12.6.2) as data, and what Node's TLS
 * stack needs to enforce a policy. Listeners (front end) and the TLS client to targets (back
 * end) call `sslPolicy` once when they are configured and `nodeTlsOptions` for the options of
 * `tls.createServer` / `tls.connect`; `describeSslPolicies` is the ELBv2 `DescribeSSLPolicies`
 * answer. Nothing here opens a socket.
 *
 * Membership comes from the spec's table (its cipher groups T13, EG, E2, …). The order is AWS's
 * priority order, which the spec's group notation does not give: the row order of the AWS
 * guide's cipher tables, as `DescribeSSLPolicies` returns it for `ELBSecurityPolicy-2016-08`
 * and `ELBSecurityPolicy-TLS-1-2-2017-01` (AES-128 suites first, then AES-256; ECDHE-RSA-AES256-SHA
 * before ECDHE-ECDSA-AES256-SHA) and as AWS's own TLS library, s2n-tls, lists the ELB policies
 * (`cipher_suites_elb_security_policy_*` in tls/s2n_cipher_preferences.c). Every policy's list
 * is the subsequence of `CIPHER_SUITES`.
 */
import { getFips } from 'node:crypto';
import { createSecureContext, getCiphers } from 'node:tls';
import { ElbError, ErrorCodes } from '../core/errors.ts';

export type LoadBalancerType = 'application' | 'network';

/** Protocol names as AWS's `SslProtocols` and Node's `minVersion`/`maxVersion` spell them. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export interface CipherSuite {
  /** OpenSSL name (TLS 1.3 suites are spelled as IANA does). */
  readonly name: string;
  /** IANA code point. */
  readonly iana: number;
  readonly tls13: boolean;
}

/** Every cipher suite any ELB policy lists, in AWS's priority order (spec 12.1.4, code points in brackets there). */
export const CIPHER_SUITES: readonly CipherSuite[] = Object.freeze(
  (
    [
      ['TLS_AES_128_GCM_SHA256', 0x1301],
      ['TLS_AES_256_GCM_SHA384', 0x1302],
      ['TLS_CHACHA20_POLY1305_SHA256', 0x1303],
      ['ECDHE-ECDSA-AES128-GCM-SHA256', 0xc02b],
      ['ECDHE-RSA-AES128-GCM-SHA256', 0xc02f],
      ['ECDHE-ECDSA-AES128-SHA256', 0xc023],
      ['ECDHE-RSA-AES128-SHA256', 0xc027],
      ['ECDHE-ECDSA-AES128-SHA', 0xc009],
      ['ECDHE-RSA-AES128-SHA', 0xc013],
      ['ECDHE-ECDSA-AES256-GCM-SHA384', 0xc02c],
      ['ECDHE-RSA-AES256-GCM-SHA384', 0xc030],
      ['ECDHE-ECDSA-AES256-SHA384', 0xc024],
      ['ECDHE-RSA-AES256-SHA384', 0xc028],
      ['ECDHE-RSA-AES256-SHA', 0xc014],
      ['ECDHE-ECDSA-AES256-SHA', 0xc00a],
      ['AES128-GCM-SHA256', 0x009c],
      ['AES128-SHA256', 0x003c],
      ['AES128-SHA', 0x002f],
      ['AES256-GCM-SHA384', 0x009d],
      ['AES256-SHA256', 0x003d],
      ['AES256-SHA', 0x0035],
      ['DES-CBC3-SHA', 0x000a],
    ] as const
  ).map(([name, iana]) => Object.freeze({ name, iana, tls13: name.startsWith('TLS_') })),
);

/** The spec's cipher groups (12.1.4). */
const CIPHER_GROUPS = {
  T13: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'],
  T13F: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'],
  EG: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  E2: ['ECDHE-ECDSA-AES128-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES256-SHA384'],
  E1: ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA'],
  RG: ['AES128-GCM-SHA256', 'AES256-GCM-SHA384'],
  R2: ['AES128-SHA256', 'AES256-SHA256'],
  R1: ['AES128-SHA', 'AES256-SHA'],
  '3D': ['DES-CBC3-SHA'],
  // RFC 9151 (CNSA 1.0), UNCONFIRMED: AES-256-GCM only, ECDHE key exchange.
  T13A256: ['TLS_AES_256_GCM_SHA384'],
  EGA256: ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
} as const satisfies Record<string, readonly string[]>;

type CipherGroup = keyof typeof CIPHER_GROUPS;

/**
 * Where a policy comes from: `pre-tls13` (the 2015–2020 names), `tls13` (`TLS13-…-2021-06`),
 * `fips` (`…-FIPS-2023-04`), `pq` and `fips-pq` (`…-PQ-2025-09`), `rfc9151` (`…-RFC9151-…-2023-07`).
 */
export type PolicyFamily = 'pre-tls13' | 'tls13' | 'fips' | 'pq' | 'fips-pq' | 'rfc9151';

/**
 * Key-exchange groups (IANA names, which OpenSSL 3 accepts) in preference order. AWS lists none
 * in its tables, so these are UNCONFIRMED: s2n-tls gives the 2015–2020 ELB policies P-256 and
 * P-384 only (`s2n_ecc_preferences_20140601`); the later families add X25519 (chosen), FIPS
 * leaves X25519 out (chosen), RFC 9151 is CNSA's P-384; the PQ families put the three hybrid
 * ML-KEM groups of spec 12.1.3 in front of their classical namesake's groups.
 */
const PQ_GROUPS = ['X25519MLKEM768', 'SecP256r1MLKEM768', 'SecP384r1MLKEM1024'] as const;
const GROUPS: Record<PolicyFamily, readonly string[]> = {
  'pre-tls13': ['secp256r1', 'secp384r1'],
  tls13: ['x25519', 'secp256r1', 'secp384r1'],
  fips: ['secp256r1', 'secp384r1'],
  pq: [...PQ_GROUPS, 'x25519', 'secp256r1', 'secp384r1'],
  'fips-pq': [...PQ_GROUPS, 'secp256r1', 'secp384r1'],
  rfc9151: ['secp384r1'],
};

/** One ELB security policy: what `DescribeSSLPolicies` shows, and how local-elb enforces it. */
export interface SecurityPolicy {
  readonly name: string;
  readonly family: PolicyFamily;
  /** Ascending; always a contiguous range. */
  readonly sslProtocols: readonly TlsVersion[];
  /** TLS 1.3 suites, in priority order. */
  readonly tls13CipherSuites: readonly string[];
  /** TLS 1.2-and-older suites (OpenSSL names), in priority order. */
  readonly ciphers: readonly string[];
  readonly keyExchangeGroups: readonly string[];
  readonly fips: boolean;
  /** Offers hybrid ML-KEM key exchange, still accepting classical (spec 12.1.3). */
  readonly postQuantum: boolean;
  readonly supportedLoadBalancerTypes: readonly LoadBalancerType[];
  /** False when the protocol and cipher lists are the spec's documented assumption, not an AWS table. */
  readonly confirmed: boolean;
  /** `2023-guide`: listed only in the 2023 revision of the AWS guide, absent from the current tables. */
  readonly listedIn: 'current-guide' | '2023-guide';
  /** Caveats (UNCONFIRMED facts, assumptions). */
  readonly notes: readonly string[];
}

interface PolicyRow {
  readonly name: string;
  readonly versions: string;
  readonly groups: string;
  readonly family: PolicyFamily;
  readonly types?: readonly LoadBalancerType[];
  readonly confirmed?: false;
  readonly listedIn?: '2023-guide';
  readonly notes?: readonly string[];
}

/** Spec 12.1.4, row by row: versions as the spec writes them, ciphers in its group notation. */
const TABLE_ROWS: readonly PolicyRow[] = [
  { name: 'ELBSecurityPolicy-TLS13-1-3-2021-06', versions: '1.3', groups: 'T13', family: 'tls13' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-2021-06', versions: '1.3 1.2', groups: 'T13 EG E2', family: 'tls13' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06', versions: '1.3 1.2', groups: 'T13 EG', family: 'tls13' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06', versions: '1.3 1.2', groups: 'T13 EG E2 RG R2', family: 'tls13' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06', versions: '1.3 1.2', groups: 'T13 EG E2 E1 RG R2 R1', family: 'tls13' },
  { name: 'ELBSecurityPolicy-TLS13-1-1-2021-06', versions: '1.3 1.2 1.1', groups: 'T13 EG E2 E1 RG R2 R1', family: 'tls13' },
  { name: 'ELBSecurityPolicy-TLS13-1-0-2021-06', versions: '1.3 1.2 1.1 1.0', groups: 'T13 EG E2 E1 RG R2 R1', family: 'tls13' },
  { name: 'ELBSecurityPolicy-FS-1-2-Res-2020-10', versions: '1.2', groups: 'EG', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-FS-1-2-Res-2019-08', versions: '1.2', groups: 'EG E2', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-FS-1-2-2019-08', versions: '1.2', groups: 'EG E2 E1', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-FS-1-1-2019-08', versions: '1.2 1.1', groups: 'EG E2 E1', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-FS-2018-06', versions: '1.2 1.1 1.0', groups: 'EG E2 E1', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-TLS-1-2-Ext-2018-06', versions: '1.2', groups: 'EG E2 E1 RG R2 R1', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-TLS-1-2-2017-01', versions: '1.2', groups: 'EG E2 RG R2', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-TLS-1-1-2017-01', versions: '1.2 1.1', groups: 'EG E2 E1 RG R2 R1', family: 'pre-tls13' },
  { name: 'ELBSecurityPolicy-2016-08', versions: '1.2 1.1 1.0', groups: 'EG E2 E1 RG R2 R1', family: 'pre-tls13' },
  {
    name: 'ELBSecurityPolicy-2015-05',
    versions: '1.2 1.1 1.0',
    groups: 'EG E2 E1 RG R2 R1',
    family: 'pre-tls13',
    types: ['network'],
    notes: [
      'identical to ELBSecurityPolicy-2016-08 (2023 ALB and NLB guides); absent from the current ALB tables, still listed for NLB by a third-party list (UNCONFIRMED)',
    ],
  },
  {
    name: 'ELBSecurityPolicy-TLS-1-0-2015-04',
    versions: '1.2 1.1 1.0',
    groups: 'EG E2 E1 RG R2 R1 3D',
    family: 'pre-tls13',
    listedIn: '2023-guide',
    notes: ['listed in the 2023 guide only; absent from the current ALB tables'],
  },
  { name: 'ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04', versions: '1.3', groups: 'T13F', family: 'fips' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04', versions: '1.3 1.2', groups: 'T13F EG E2', family: 'fips' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04', versions: '1.3 1.2', groups: 'T13F EG', family: 'fips' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04', versions: '1.3 1.2', groups: 'T13F EG E2 E1', family: 'fips' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04', versions: '1.3 1.2', groups: 'T13F EG E2 RG R2', family: 'fips' },
  { name: 'ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04', versions: '1.3 1.2', groups: 'T13F EG E2 E1 RG R2 R1', family: 'fips' },
  {
    name: 'ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04',
    versions: '1.3 1.2 1.1',
    groups: 'T13F EG E2 E1 RG R2 R1',
    family: 'fips',
    notes: ['for legacy compatibility only (AWS guide)'],
  },
  {
    name: 'ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04',
    versions: '1.3 1.2 1.1 1.0',
    groups: 'T13F EG E2 E1 RG R2 R1',
    family: 'fips',
    notes: ['for legacy compatibility only (AWS guide); the ALB back-end policy of FIPS listeners'],
  },
];

/** The PQ and FIPS-PQ families (names confirmed, lists UNCONFIRMED): each as its namesake, plus the ML-KEM groups. */
const POST_QUANTUM_ROWS: readonly PolicyRow[] = (
  [
    ['TLS13-1-0-PQ-2025-09', 'TLS13-1-0-2021-06'],
    ['TLS13-1-2-PQ-2025-09', 'TLS13-1-2-2021-06'],
    ['TLS13-1-2-Res-PQ-2025-09', 'TLS13-1-2-Res-2021-06'],
    ['TLS13-1-2-Ext1-PQ-2025-09', 'TLS13-1-2-Ext1-2021-06'],
    ['TLS13-1-2-Ext2-PQ-2025-09', 'TLS13-1-2-Ext2-2021-06'],
    ['TLS13-1-3-PQ-2025-09', 'TLS13-1-3-2021-06'],
    ['TLS13-1-0-FIPS-PQ-2025-09', 'TLS13-1-0-FIPS-2023-04'],
    ['TLS13-1-2-FIPS-PQ-2025-09', 'TLS13-1-2-FIPS-2023-04'],
    ['TLS13-1-2-Res-FIPS-PQ-2025-09', 'TLS13-1-2-Res-FIPS-2023-04'],
    ['TLS13-1-2-Ext0-FIPS-PQ-2025-09', 'TLS13-1-2-Ext0-FIPS-2023-04'],
    ['TLS13-1-2-Ext1-FIPS-PQ-2025-09', 'TLS13-1-2-Ext1-FIPS-2023-04'],
    ['TLS13-1-2-Ext2-FIPS-PQ-2025-09', 'TLS13-1-2-Ext2-FIPS-2023-04'],
    ['TLS13-1-3-FIPS-PQ-2025-09', 'TLS13-1-3-FIPS-2023-04'],
  ] as const
).map(([name, namesake]) => {
  const base = TABLE_ROWS.find((row) => row.name === `ELBSecurityPolicy-${namesake}`);
  if (!base) throw new Error(`policies.ts: ELBSecurityPolicy-${name} names ${namesake}, which is not in the table`);
  const fips = base.family === 'fips';
  return {
    name: `ELBSecurityPolicy-${name}`,
    versions: base.versions,
    groups: base.groups,
    family: fips ? 'fips-pq' : 'pq',
    confirmed: false,
    notes: [`cipher list UNCONFIRMED: assumed equal to ${base.name} (spec 12.1.4)`],
  };
});

/** The RFC 9151 (CNSA 1.0) family: names confirmed, lists UNCONFIRMED (spec 12.1.4: "expected AES-256-GCM only"). */
const RFC9151_ROWS: readonly PolicyRow[] = (
  [
    ['TLS13-1-3-RFC9151-FIPS-2023-07', '1.3', 'T13A256'],
    ['TLS13-1-2-RFC9151-FIPS-2023-07', '1.3 1.2', 'T13A256 EGA256'],
    ['TLS13-1-2-Ext0-RFC9151-FIPS-2023-07', '1.3 1.2', 'T13A256 EGA256'],
    ['TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07', '1.3 1.2', 'T13A256 EGA256'],
    ['TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07', '1.3 1.2', 'T13A256 EGA256'],
    ['TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07', '1.3 1.2', 'T13A256 EGA256'],
    ['TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07', '1.3 1.2', 'T13A256 EGA256'],
  ] as const
).map(([name, versions, groups]) => ({
  name: `ELBSecurityPolicy-${name}`,
  versions,
  groups,
  family: 'rfc9151',
  confirmed: false,
  notes: [
    'cipher list UNCONFIRMED: assumed AES-256-GCM only with ECDHE key exchange (spec 12.1.4)',
    'key exchange assumed P-384 only (CNSA 1.0; UNCONFIRMED)',
  ],
}));

/** The policy's suites in AWS's priority order (`CIPHER_SUITES`). */
function expandGroups(policyName: string, groups: string): string[] {
  const members = new Set<string>();
  for (const group of groups.split(' ')) {
    const names = (CIPHER_GROUPS as Record<string, readonly string[]>)[group];
    if (!names) throw new Error(`policies.ts: ${policyName} lists an unknown cipher group ${group}`);
    for (const cipher of names) members.add(cipher);
  }
  return CIPHER_SUITES.map((suite) => suite.name).filter((name) => members.has(name));
}

function expandVersions(policyName: string, versions: string): TlsVersion[] {
  const wanted = new Set(versions.split(' ').map((v) => (v === '1.0' ? 'TLSv1' : `TLSv${v}`)));
  const list = TLS_VERSIONS.filter((v) => wanted.has(v));
  if (list.length !== wanted.size) throw new Error(`policies.ts: ${policyName} lists an unknown TLS version in "${versions}"`);
  return list;
}

function buildPolicy(row: PolicyRow): SecurityPolicy {
  const suites = expandGroups(row.name, row.groups);
  return Object.freeze({
    name: row.name,
    family: row.family,
    sslProtocols: Object.freeze(expandVersions(row.name, row.versions)),
    tls13CipherSuites: Object.freeze(suites.filter((name) => name.startsWith('TLS_'))),
    ciphers: Object.freeze(suites.filter((name) => !name.startsWith('TLS_'))),
    keyExchangeGroups: Object.freeze([...GROUPS[row.family]]),
    fips: row.family === 'fips' || row.family === 'fips-pq' || row.family === 'rfc9151',
    postQuantum: row.family === 'pq' || row.family === 'fips-pq',
    supportedLoadBalancerTypes: Object.freeze([...(row.types ?? (['application', 'network'] as const))]),
    confirmed: row.confirmed ?? true,
    listedIn: row.listedIn ?? 'current-guide',
    notes: Object.freeze([...(row.notes ?? [])]),
  });
}

/** Every policy of spec 12.1.4 (and 12.6.2's `2015-05`), in the spec's order. */
export const SECURITY_POLICIES: readonly SecurityPolicy[] = Object.freeze([...TABLE_ROWS, ...POST_QUANTUM_ROWS, ...RFC9151_ROWS].map(buildPolicy));

const BY_NAME = new Map(SECURITY_POLICIES.map((policy) => [policy.name, policy]));

/** The policy a listener gets when `SslPolicy` is omitted in the API, CLI, CloudFormation, CDK and the Load Balancer Controller (spec 12.1.3). */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-2016-08';

/** The console's default (since 2025-11; spec 12.0.1 dates the earlier ones). */
export const CONSOLE_DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09';

/** The ELBv2 API error code for an unknown policy name (spec 14.5). */
export const SSL_POLICY_NOT_FOUND = 'SSLPolicyNotFound';

/** A policy name that is not in the catalogue, or not offered for the load balancer's type. */
export class SslPolicyNotFoundError extends ElbError {
  readonly awsCode = SSL_POLICY_NOT_FOUND;
  readonly policyName: string;
  /** The type asked for; undefined when any type would do. */
  readonly loadBalancerType: LoadBalancerType | 'gateway' | undefined;
  /** The names that are valid for `loadBalancerType`. */
  readonly allowed: readonly string[];

  constructor(field: string, policyName: string, loadBalancerType: LoadBalancerType | 'gateway' | undefined) {
    const allowed = SECURITY_POLICIES.filter(
      (p) => loadBalancerType === undefined || (loadBalancerType !== 'gateway' && p.supportedLoadBalancerTypes.includes(loadBalancerType)),
    ).map((p) => p.name);
    const known = BY_NAME.get(policyName);
    const why = known ? ` (a ${known.supportedLoadBalancerTypes.join('/')}-only policy)` : '';
    const scope = loadBalancerType ? ` for ${loadBalancerType} load balancers` : '';
    super(
      ErrorCodes.NOT_FOUND,
      allowed.length === 0
        ? `${field}: ${loadBalancerType} load balancers have no security policies: got ${JSON.stringify(policyName)}`
        : `${field} must be one of the ${allowed.length} security policies${scope}: got ${JSON.stringify(policyName)}${why}; ` +
            `allowed: ${allowed.join(' | ')}`,
    );
    this.name = 'SslPolicyNotFoundError';
    this.policyName = policyName;
    this.loadBalancerType = loadBalancerType;
    this.allowed = allowed;
  }
}

/**
 * The policy called `name` on a load balancer of `loadBalancerType`, or SslPolicyNotFoundError
 * (code `ELB_ERR_NOT_FOUND`, `awsCode` `SSLPolicyNotFound`) listing the valid names. `field`
 * names the setting in the message (`listeners[0].sslPolicy`).
 */
export function sslPolicy(name: string, loadBalancerType: LoadBalancerType, field = 'sslPolicy'): SecurityPolicy {
  const policy = BY_NAME.get(name);
  if (!policy || !policy.supportedLoadBalancerTypes.includes(loadBalancerType)) {
    throw new SslPolicyNotFoundError(field, name, loadBalancerType);
  }
  return policy;
}

const BACKEND_TLS13 = 'ELBSecurityPolicy-TLS13-1-0-2021-06';
const BACKEND_FIPS = 'ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04';
const BACKEND_RFC9151 = 'ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07';

/**
 * The policy the load balancer uses towards HTTPS/TLS targets and for HTTPS health checks,
 * from the listener's policy (spec 12.1.3 for ALB, 12.6.2 for NLB): on ALB, an RFC 9151
 * listener policy gives `…-RFC9151-INTEROP4-FIPS-2023-07` (UNCONFIRMED, a third-party summary)
 * and any other FIPS policy `…-TLS13-1-0-FIPS-2023-04`; then (ALB and NLB) any TLS 1.3 policy
 * gives `…-TLS13-1-0-2021-06`, and anything else `ELBSecurityPolicy-2016-08`. No listener
 * policy (an HTTP listener in front of an HTTPS target group) is "anything else".
 */
export function backendPolicyFor(listenerPolicy: SecurityPolicy | string | undefined, loadBalancerType: LoadBalancerType): SecurityPolicy {
  const listener = typeof listenerPolicy === 'string' ? sslPolicy(listenerPolicy, loadBalancerType) : listenerPolicy;
  const pick = (name: string) => BY_NAME.get(name)!;
  if (!listener) return pick(DEFAULT_SSL_POLICY);
  if (loadBalancerType === 'application' && listener.family === 'rfc9151') return pick(BACKEND_RFC9151);
  if (loadBalancerType === 'application' && listener.fips) return pick(BACKEND_FIPS);
  if (listener.sslProtocols.includes('TLSv1.3')) return pick(BACKEND_TLS13);
  return pick(DEFAULT_SSL_POLICY);
}

/** One entry of `DescribeSSLPolicies`' `SslPolicies` (spec 14.6.7), with AWS's member names. */
export interface SslPolicyDescription {
  readonly SslProtocols: readonly TlsVersion[];
  readonly Ciphers: readonly { readonly Name: string; readonly Priority: number }[];
  readonly Name: string;
  readonly SupportedLoadBalancerTypes: readonly LoadBalancerType[];
}

/**
 * `DescribeSSLPolicies`: the named policies in the order asked (each once), or every policy;
 * `loadBalancerType` keeps those the type supports (`gateway` has no TLS listeners: none,
 * UNCONFIRMED). An unknown name, or one the type does not offer, throws SslPolicyNotFoundError.
 * Ciphers are numbered from 1, TLS 1.3 suites first, as AWS lists them.
 */
export function describeSslPolicies(
  names?: readonly string[],
  loadBalancerType?: LoadBalancerType | 'gateway',
): SslPolicyDescription[] {
  const offered = (policy: SecurityPolicy) =>
    loadBalancerType === undefined || (loadBalancerType !== 'gateway' && policy.supportedLoadBalancerTypes.includes(loadBalancerType));
  const policies =
    names && names.length > 0
      ? [...new Set(names)].map((name) => {
          const policy = BY_NAME.get(name);
          if (!policy || !offered(policy)) throw new SslPolicyNotFoundError('Names', name, loadBalancerType);
          return policy;
        })
      : SECURITY_POLICIES.filter(offered);
  return policies.map((policy) => ({
    SslProtocols: policy.sslProtocols,
    Ciphers: [...policy.tls13CipherSuites, ...policy.ciphers].map((name, index) => ({ Name: name, Priority: index + 1 })),
    Name: policy.name,
    SupportedLoadBalancerTypes: policy.supportedLoadBalancerTypes,
  }));
}

/** What the local TLS library can do; injected so a test can describe an older or a FIPS OpenSSL. */
export interface TlsStack {
  /** For messages: `OpenSSL 3.5.8`. */
  readonly description: string;
  /** Knows this cipher suite (OpenSSL name). */
  hasCipher(name: string): boolean;
  /** Can offer this key-exchange group (IANA name). */
  hasGroup(name: string): boolean;
  /** Runs a FIPS module. */
  readonly fips: boolean;
}

let nodeStack: TlsStack | undefined;

/** Node's own OpenSSL, probed once. */
export function nodeTlsStack(): TlsStack {
  if (nodeStack) return nodeStack;
  const ciphers = new Set(getCiphers().map((name) => name.toUpperCase()));
  const groups = new Map<string, boolean>();
  nodeStack = {
    description: `OpenSSL ${process.versions.openssl}`,
    hasCipher: (name) => ciphers.has(name.toUpperCase()),
    hasGroup: (name) => {
      let known = groups.get(name);
      if (known === undefined) {
        try {
          createSecureContext({ ecdhCurve: name });
          known = true;
        } catch {
          known = false;
        }
        groups.set(name, known);
      }
      return known;
    },
    fips: getFips() === 1,
  };
  return nodeStack;
}

/**
 * The options of `tls.createServer` / `tls.connect` that enforce a policy, and `advisory`: what
 * this TLS stack cannot enforce (leave it out when spreading into Node's options, and log it).
 */
export interface NodeTlsOptions {
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  /**
   * The TLS 1.3 suites and then the older ones, in policy order, `:`-separated (Node sends the
   * `TLS_` names to OpenSSL's TLS 1.3 list and the rest to the TLS 1.2 list), with
   * `@SECLEVEL=0` when the policy allows TLS 1.0 or 1.1.
   */
  readonly ciphers: string;
  /** The server's order wins, as on ELB (spec 12.1.3); Node's servers default to it too. */
  readonly honorCipherOrder: true;
  /** The policy's key-exchange groups this stack has; without it Node 24 would offer ML-KEM to every client. */
  readonly ecdhCurve: string;
  readonly advisory: readonly string[];
}

/**
 * Node's TLS options for `policy`. OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security
 * level whatever `minVersion` says ("unsupported protocol"), so those policies get
 * `@SECLEVEL=0`; SHA-1 cipher suites under TLS 1.2 need no such change. Suites or groups the
 * stack lacks are left out and named in `advisory` (Node 24's OpenSSL has no `DES-CBC3-SHA`;
 * Node 22's has no ML-KEM groups).
 */
export function nodeTlsOptions(policy: SecurityPolicy, stack: TlsStack = nodeTlsStack()): NodeTlsOptions {
  const advisory: string[] = [];
  const available = (kind: string, names: readonly string[], has: (name: string) => boolean) => {
    const missing = names.filter((name) => !has(name));
    if (missing.length > 0) {
      advisory.push(`${policy.name}: ${kind} ${missing.join(', ')} not offered: ${stack.description} does not have ${missing.length > 1 ? 'them' : 'it'}`);
    }
    return names.filter(has);
  };
  const suites = [
    ...available('TLS 1.3 suites', policy.tls13CipherSuites, (name) => stack.hasCipher(name)),
    ...available('cipher suites', policy.ciphers, (name) => stack.hasCipher(name)),
  ];
  const groups = available('key-exchange groups', policy.keyExchangeGroups, (name) => stack.hasGroup(name));
  const minVersion = policy.sslProtocols[0]!;
  const maxVersion = policy.sslProtocols[policy.sslProtocols.length - 1]!;
  const legacyVersions = minVersion === 'TLSv1' || minVersion === 'TLSv1.1';
  if (legacyVersions) {
    advisory.push(
      `${policy.name}: TLS 1.0/1.1 run at OpenSSL security level 0, which also accepts SHA-1 signatures and short keys that the policy does not name`,
    );
  }
  if (policy.fips && !stack.fips) {
    advisory.push(`${policy.name}: protocols and ciphers are enforced, but ${stack.description} is not running a FIPS module (AWS uses AWS-LC FIPS)`);
  }
  if (suites.length === 0 || groups.length === 0) {
    throw new Error(`${policy.name}: ${stack.description} has none of the policy's ${suites.length === 0 ? 'cipher suites' : 'key-exchange groups'}`);
  }
  return {
    minVersion,
    maxVersion,
    ciphers: [...suites, ...(legacyVersions ? ['@SECLEVEL=0'] : [])].join(':'),
    honorCipherOrder: true,
    ecdhCurve: groups.join(':'),
    advisory,
  };
}
