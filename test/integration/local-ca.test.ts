/**
 * The local CA against clients that owe local-elb nothing: curl and openssl (OpenSSL from
 * Debian), Node's https client, a Node process trusting the CA through NODE_EXTRA_CA_CERTS,
 * and the `local-elb ca` commands run as the real binary.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalCa, type IssuedCertificate, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { BIN, runCli } from '../support/cli.ts';
import { requirePeer } from '../support/peers.ts';

// Skipped without curl or openssl outside CI (the run's setup says so once); fail under CI=true.
const hasCurl = requirePeer('curl') !== undefined;
const hasOpenssl = requirePeer('openssl') !== undefined;

/** Without the variables that would make curl or OpenSSL trust something else. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'LOCAL_ELB_STATE_DIR']) delete env[name];
  return env;
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface TlsServer {
  readonly port: number;
  close(): Promise<void>;
}

async function startHttpsServer(leaf: IssuedCertificate): Promise<TlsServer> {
  const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => res.end(`hello ${req.headers.host}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function httpsGet(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { family: 4, ...(ca !== undefined ? { ca } : {}), agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
}

let dir: string;
let ca: LocalCertificateAuthority;
let local: IssuedCertificate;
let wildcard: IssuedCertificate;
let localServer: TlsServer;
let wildcardServer: TlsServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-ca-it-'));
  ca = await openLocalCa(join(dir, 'state'));
  local = await ca.issue(['localhost', '127.0.0.1']);
  wildcard = await ca.issue(['*.localtest.me'], { keyType: 'rsa-2048' });
  localServer = await startHttpsServer(local);
  wildcardServer = await startHttpsServer(wildcard);
  await writeFile(join(dir, 'local.pem'), local.certPem);
  await writeFile(join(dir, 'wildcard.pem'), wildcard.certPem);
});
afterAll(async () => {
  await localServer?.close();
  await wildcardServer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasCurl)('curl and a leaf from the local CA', () => {
  const curl = (args: readonly string[]) => run('curl', ['--silent', '--show-error', '--max-time', '10', ...args]);

  it('trusts https://localhost with --cacert ca.pem', async () => {
    const port = localServer.port;
    const r = await curl(['--cacert', ca.certPath, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`]);
    expect(r).toEqual({ code: 0, stdout: `hello localhost:${port}`, stderr: '' });
  });

  it('trusts https://127.0.0.1 with --cacert ca.pem (an IP address SAN)', async () => {
    const r = await curl(['--cacert', ca.certPath, `https://127.0.0.1:${localServer.port}/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`hello 127.0.0.1:${localServer.port}`);
  });

  it('refuses the same server without --cacert: exit 60, unable to get local issuer certificate', async () => {
    const port = localServer.port;
    const r = await curl(['--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`]);
    expect(r.code).toBe(60);
    expect(r.stderr).toContain('unable to get local issuer certificate');
  });

  it('refuses a host name the certificate is not for, even with --cacert', async () => {
    const port = localServer.port;
    const r = await curl(['--cacert', ca.certPath, '--resolve', `other.test:${port}:127.0.0.1`, `https://other.test:${port}/`]);
    expect(r.code).toBe(60);
    expect(r.stderr).toMatch(/subject name|does not match/);
  });

  it('trusts a *.localtest.me (RSA) leaf for a.localtest.me, and not for b.a.localtest.me', async () => {
    const port = wildcardServer.port;
    const ok = await curl(['--cacert', ca.certPath, '--resolve', `a.localtest.me:${port}:127.0.0.1`, `https://a.localtest.me:${port}/`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`hello a.localtest.me:${port}`);
    const deeper = await curl(['--cacert', ca.certPath, '--resolve', `b.a.localtest.me:${port}:127.0.0.1`, `https://b.a.localtest.me:${port}/`]);
    expect(deeper.code).toBe(60);
  });
});

describe.skipIf(!hasOpenssl)('openssl verify', () => {
  it.each(['local.pem', 'wildcard.pem'])('%s: OK against ca.pem, as a TLS server certificate, with strict X.509 checks', async (file) => {
    const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', ca.certPath, join(dir, file)]);
    expect(r.stdout.trim()).toBe(`${join(dir, file)}: OK`);
    expect(r.code).toBe(0);
  });

  it('checks the names too: localhost and 127.0.0.1 pass, another name fails', async () => {
    const leaf = join(dir, 'local.pem');
    expect((await run('openssl', ['verify', '-CAfile', ca.certPath, '-verify_hostname', 'localhost', leaf])).code).toBe(0);
    expect((await run('openssl', ['verify', '-CAfile', ca.certPath, '-verify_ip', '127.0.0.1', leaf])).code).toBe(0);
    const wrong = await run('openssl', ['verify', '-CAfile', ca.certPath, '-verify_hostname', 'example.com', leaf]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toContain('hostname mismatch');
  });

  it('reads ca-key.pem as the key of ca.pem (PKCS#8)', async () => {
    const fromKey = await run('openssl', ['pkey', '-in', ca.keyPath, '-pubout']);
    const fromCert = await run('openssl', ['x509', '-in', ca.certPath, '-noout', '-pubkey']);
    expect(fromKey.code).toBe(0);
    expect(fromKey.stdout).toBe(fromCert.stdout);
  });
});

describe('Node’s https client', () => {
  it('trusts the server with ca: ca.pem', async () => {
    const res = await httpsGet(`https://localhost:${localServer.port}/`, ca.certPem);
    expect(res).toEqual({ status: 200, body: `hello localhost:${localServer.port}` });
  });

  it('refuses it without (the server sends only the leaf: UNABLE_TO_VERIFY_LEAF_SIGNATURE)', async () => {
    await expect(httpsGet(`https://localhost:${localServer.port}/`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });
});

describe('local-elb ca', () => {
  const caPath = (stateDir: string) => join(stateDir, 'ca', 'ca.pem');

  it('ca path --state-dir DIR prints the CA certificate’s path and nothing else, creating the CA', async () => {
    const stateDir = join(dir, 'cli-option');
    const r = await runCli(['ca', 'path', '--state-dir', stateDir], cleanEnv());
    expect(r).toEqual({ code: 0, stdout: `${caPath(stateDir)}\n`, stderr: '' });
    expect(new X509Certificate(await readFile(caPath(stateDir))).ca).toBe(true);
    // The same CA the next time.
    const again = await runCli(['--state-dir', stateDir, 'ca', 'path'], cleanEnv());
    expect(again.stdout).toBe(`${caPath(stateDir)}\n`);
  });

  it('ca path reads LOCAL_ELB_STATE_DIR, and --state-dir wins over it', async () => {
    const fromEnv = join(dir, 'cli-env');
    const r = await runCli(['ca', 'path'], { ...cleanEnv(), LOCAL_ELB_STATE_DIR: fromEnv });
    expect(r.stdout).toBe(`${caPath(fromEnv)}\n`);
    expect(existsSync(caPath(fromEnv))).toBe(true);
    const option = join(dir, 'cli-wins');
    expect((await runCli(['ca', 'path', '--state-dir', option], { ...cleanEnv(), LOCAL_ELB_STATE_DIR: fromEnv })).stdout).toBe(`${caPath(option)}\n`);
  });

  it('ca path defaults to ~/.local-elb', async () => {
    const home = join(dir, 'home');
    const r = await runCli(['ca', 'path'], { ...cleanEnv(), HOME: home });
    expect(r.stdout).toBe(`${caPath(join(home, '.local-elb'))}\n`);
  });

  it.skipIf(!hasCurl)('works as curl --cacert "$(local-elb ca path)" in a shell', async () => {
    const port = localServer.port;
    const script = `curl --silent --show-error --cacert "$("$NODE" "$BIN" ca path)" --resolve localhost:${port}:127.0.0.1 https://localhost:${port}/`;
    const r = await run('sh', ['-c', script], { ...cleanEnv(), NODE: process.execPath, BIN, LOCAL_ELB_STATE_DIR: join(dir, 'state') });
    expect(r).toEqual({ code: 0, stdout: `hello localhost:${port}`, stderr: '' });
  });

  it('NODE_EXTRA_CA_CERTS=$(local-elb ca path) makes a plain Node client trust the server', async () => {
    const path = (await runCli(['ca', 'path', '--state-dir', join(dir, 'state')], cleanEnv())).stdout.trim();
    expect(path).toBe(ca.certPath);
    const client = `require('node:https').get('https://localhost:${localServer.port}/', { family: 4 }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => console.log(res.statusCode, b)); }).on('error', (e) => { console.log(e.code); process.exitCode = 1; });`;
    const trusted = await run(process.execPath, ['-e', client], { ...cleanEnv(), NODE_EXTRA_CA_CERTS: path });
    expect(trusted.stdout.trim()).toBe(`200 hello localhost:${localServer.port}`);
    const untrusted = await run(process.execPath, ['-e', client], cleanEnv());
    expect(untrusted.stdout.trim()).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('ca install prints the commands with the path (update-ca-certificates among them) and changes nothing', async () => {
    const stateDir = join(dir, 'state');
    const before = await readFile(ca.certPath, 'utf8');
    const r = await runCli(['ca', 'install', '--state-dir', stateDir], cleanEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ca.certPath);
    expect(r.stdout).toContain(`sudo cp ${ca.certPath} /usr/local/share/ca-certificates/local-elb.crt && sudo update-ca-certificates`);
    expect(r.stdout).toContain('update-ca-trust');
    expect(r.stdout).toContain('security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain');
    expect(r.stdout).toContain('certutil -addstore -f ROOT');
    expect(r.stdout).toContain('certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n local-elb -i');
    expect(r.stdout).toContain(`NODE_EXTRA_CA_CERTS=${ca.certPath}`);
    expect(r.stdout).toContain(`curl --cacert ${ca.certPath}`);
    expect(await readFile(ca.certPath, 'utf8')).toBe(before);
  });

  it('a corrupt ca.pem: exit 2 with one message naming the file and the fix, no stack trace', async () => {
    const stateDir = join(dir, 'cli-corrupt');
    await runCli(['ca', 'path', '--state-dir', stateDir], cleanEnv());
    await writeFile(caPath(stateDir), '-----BEGIN CERTIFICATE-----\nMIIB\n');
    const r = await runCli(['ca', 'path', '--state-dir', stateDir], cleanEnv());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${caPath(stateDir)} is not a PEM certificate`);
    expect(r.stderr).toContain(`Delete ${join(stateDir, 'ca')} and local-elb makes a new CA on next use`);
    expect(r.stderr).toContain('[ELB_ERR_CA_INVALID]');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
