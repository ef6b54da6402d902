/**
 * Security policies enforced by Node's TLS stack, checked with an independent client: a Node
 * `tls.Server` on 127.0.0.1 port 0 with `nodeTlsOptions(policy)`, and Debian's
 * `openssl s_client` offering one version or cipher at a time (spec 12.1.3, 12.1.4).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CIPHER_SUITES, nodeTlsOptions, nodeTlsStack, sslPolicy } from '../../src/tls/policies.ts';
import { hasOpenssl, opensslCipherCodes, sClient, selfSignedCertificate, type KeyPair } from '../support/s-client.ts';
import { waitFor } from '../support/wait.ts';

// Skipped without openssl outside CI (the run's setup says so once); fails under CI=true.
const haveOpenssl = hasOpenssl();

type CertKind = 'ecdsa' | 'rsa';

interface PolicyServer {
  readonly port: number;
  /** Codes of the handshakes the server refused (`ERR_SSL_UNSUPPORTED_PROTOCOL`, …). */
  readonly refusals: string[];
  close(): Promise<void>;
}

// TLS 1.0/1.1 clients need security level 0 on the client side too (OpenSSL 3 refuses them by default).
const TLS1 = ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'];
const TLS1_1 = ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'];

describe.skipIf(!haveOpenssl)('security policies against openssl s_client', () => {
  let dir = '';
  const certs = {} as Record<CertKind, KeyPair>;
  const servers: PolicyServer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-elb-policies-'));
    certs.ecdsa = await selfSignedCertificate(dir, 'ecdsa');
    certs.rsa = await selfSignedCertificate(dir, 'rsa');
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function serve(policyName: string, cert: CertKind, overrides: tls.TlsOptions = {}): Promise<PolicyServer> {
    const { advisory: _advisory, ...options } = nodeTlsOptions(sslPolicy(`ELBSecurityPolicy-${policyName}`, 'application'));
    const refusals: string[] = [];
    const server = tls.createServer({ ...certs[cert], ...options, ...overrides }, (socket) => socket.end());
    server.on('tlsClientError', (err: NodeJS.ErrnoException) => refusals.push(err.code ?? err.message));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const handle: PolicyServer = {
      port: (server.address() as AddressInfo).port,
      refusals,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    servers.push(handle);
    return handle;
  }

  it.each<[string, CertKind, string[], string, string]>([
    ['2016-08', 'ecdsa', ['-tls1_2'], 'TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    ['2016-08', 'ecdsa', TLS1_1, 'TLSv1.1', 'ECDHE-ECDSA-AES128-SHA'],
    ['2016-08', 'ecdsa', TLS1, 'TLSv1', 'ECDHE-ECDSA-AES128-SHA'],
    ['2016-08', 'rsa', ['-tls1_2'], 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'],
    ['2016-08', 'rsa', ['-tls1_2', '-cipher', 'AES128-SHA'], 'TLSv1.2', 'AES128-SHA'],
    ['TLS-1-2-2017-01', 'ecdsa', ['-tls1_2'], 'TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    ['TLS-1-2-2017-01', 'rsa', ['-tls1_2', '-cipher', 'AES256-SHA256'], 'TLSv1.2', 'AES256-SHA256'],
    ['FS-1-2-Res-2020-10', 'rsa', ['-tls1_2'], 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'],
    ['TLS13-1-2-2021-06', 'ecdsa', ['-tls1_3'], 'TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
    ['TLS13-1-2-2021-06', 'ecdsa', ['-tls1_2'], 'TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    ['TLS13-1-2-2021-06', 'ecdsa', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-SHA384'], 'TLSv1.2', 'ECDHE-ECDSA-AES256-SHA384'],
    ['TLS13-1-3-2021-06', 'ecdsa', ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'], 'TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256'],
    ['TLS13-1-2-Res-2021-06', 'rsa', ['-tls1_2'], 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'],
    ['TLS13-1-2-Res-2021-06', 'ecdsa', ['-tls1_3'], 'TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
    ['TLS13-1-0-2021-06', 'ecdsa', TLS1, 'TLSv1', 'ECDHE-ECDSA-AES128-SHA'],
    ['TLS13-1-0-2021-06', 'ecdsa', ['-tls1_3'], 'TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
  ])('%s (%s certificate) accepts s_client %j: %s with %s', async (policy, cert, args, protocol, cipher) => {
    const server = await serve(policy, cert);
    const handshake = await sClient(server.port, args);
    expect({ protocol: handshake.protocol, cipher: handshake.cipher }, handshake.output).toEqual({ protocol, cipher });
    expect(server.refusals).toEqual([]);
  });

  it.each<[string, CertKind, string[], string]>([
    ['2016-08', 'ecdsa', ['-tls1_3'], 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['TLS-1-2-2017-01', 'ecdsa', TLS1_1, 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['FS-1-2-Res-2020-10', 'rsa', TLS1_1, 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['TLS13-1-2-2021-06', 'ecdsa', TLS1_1, 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['TLS13-1-2-Res-2021-06', 'ecdsa', TLS1_1, 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['TLS13-1-3-2021-06', 'ecdsa', ['-tls1_2'], 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    // A cipher outside the policy.
    ['FS-1-2-Res-2020-10', 'rsa', ['-tls1_2', '-cipher', 'AES128-SHA'], 'ERR_SSL_NO_SHARED_CIPHER'],
    ['FS-1-2-Res-2020-10', 'rsa', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA256'], 'ERR_SSL_NO_SHARED_CIPHER'],
    ['TLS-1-2-2017-01', 'ecdsa', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA'], 'ERR_SSL_NO_SHARED_CIPHER'],
    ['TLS13-1-2-Res-2021-06', 'ecdsa', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA256'], 'ERR_SSL_NO_SHARED_CIPHER'],
    // TLS 1.3 suites are restricted too.
    ['TLS13-1-3-FIPS-2023-04', 'ecdsa', ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'], 'ERR_SSL_NO_SHARED_CIPHER'],
    ['TLS13-1-3-RFC9151-FIPS-2023-07', 'ecdsa', ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'], 'ERR_SSL_NO_SHARED_CIPHER'],
    // An ECDSA suite needs an ECDSA certificate: with an RSA one, the policy's ECDSA suites are unusable.
    ['FS-1-2-Res-2020-10', 'rsa', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], 'ERR_SSL_NO_SHARED_CIPHER'],
  ])('%s (%s certificate) refuses s_client %j: %s', async (policy, cert, args, code) => {
    const server = await serve(policy, cert);
    const handshake = await sClient(server.port, args);
    expect(handshake.connected, handshake.output).toBe(false);
    expect(handshake.exitCode).not.toBe(0);
    await waitFor(() => server.refusals.length > 0, { what: 'the server to report the refused handshake' });
    expect(server.refusals).toEqual([code]);
  });

  it.each<[string, CertKind, string[], string, string]>([
    // AWS's order puts every AES-128 suite before AES-256 (the spec's EG-then-E2 grouping would pick AES256-GCM here).
    ['2016-08', 'ecdsa', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA256'], 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
    ['FS-1-2-Res-2020-10', 'rsa', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256'], 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384'],
    ['TLS13-1-2-2021-06', 'ecdsa', ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384'], 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'],
  ])('%s (%s certificate): the server’s preference wins over s_client %j (%s, not the client’s %s)', async (policy, cert, args, serverChoice, clientChoice) => {
    const server = await serve(policy, cert);
    expect((await sClient(server.port, args)).cipher).toBe(serverChoice);
    // The control: the same offer to a server that follows the client picks the client's first.
    const follower = await serve(policy, cert, { honorCipherOrder: false });
    expect((await sClient(follower.port, args)).cipher).toBe(clientChoice);
  });

  it('key exchange: 2016-08 uses P-256, the TLS13 policies X25519, and a PQ policy falls back to X25519 for a client without ML-KEM', async () => {
    const legacy = await serve('2016-08', 'ecdsa');
    expect((await sClient(legacy.port, ['-tls1_2'])).group).toBe('ECDH, prime256v1, 256 bits');
    const tls13 = await serve('TLS13-1-2-Res-2021-06', 'ecdsa');
    expect((await sClient(tls13.port, ['-tls1_3'])).group).toBe('X25519, 253 bits');
    const pq = await serve('TLS13-1-2-Res-PQ-2025-09', 'ecdsa');
    const classical = await sClient(pq.port, ['-tls1_3']); // Debian's OpenSSL 3.0 offers no ML-KEM
    expect([classical.protocol, classical.group]).toEqual(['TLSv1.3', 'X25519, 253 bits']);
  });

  it.skipIf(!nodeTlsStack().hasGroup('X25519MLKEM768'))(
    'a PQ policy negotiates X25519MLKEM768 with a Node client that offers it; its -2021-06 namesake does not',
    async () => {
      const groupFor = async (policy: string) => {
        const server = await serve(policy, 'ecdsa');
        return new Promise<string | undefined>((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
            const info = socket.getEphemeralKeyInfo() as { name?: string } | null;
            socket.end();
            resolve(info?.name);
          });
          socket.once('error', reject);
        });
      };
      expect(await groupFor('TLS13-1-2-Res-PQ-2025-09')).toBe('X25519MLKEM768');
      expect(await groupFor('TLS13-1-2-Res-2021-06')).toBe('X25519');
    },
  );

  it('names each cipher suite as OpenSSL does, with the IANA code point OpenSSL gives it', async () => {
    const codes = await opensslCipherCodes();
    const unknown = CIPHER_SUITES.filter((suite) => !codes.has(suite.name)).map((suite) => suite.name);
    expect(unknown).toEqual(['DES-CBC3-SHA']); // neither Debian's OpenSSL 3.0 nor Node's 3.5 builds 3DES
    for (const suite of CIPHER_SUITES.filter((s) => codes.has(s.name))) expect(codes.get(suite.name), suite.name).toBe(suite.iana);
  });
});
