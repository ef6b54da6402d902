/**
 * OpenSSL's command line (Debian's `openssl`) as an independent TLS peer: self-signed
 * certificates made with `openssl req`, and handshakes made with `openssl s_client -brief`,
 * whose report is parsed into the negotiated protocol, cipher and key-exchange group.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requirePeer } from './peers.ts';

/** True when openssl is installed; under CI=true a missing openssl throws instead (test/support/peers.ts). */
export function hasOpenssl(): boolean {
  return requirePeer('openssl') !== undefined;
}

/** `openssl version`, for messages: `OpenSSL 3.0.19 27 Jan 2026 (…)`. */
export function opensslVersion(): string {
  return execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
}

function run(args: readonly string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(); // s_client reads stdin after the handshake: EOF makes it quit at once
  });
}

export interface KeyPair {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A self-signed certificate for `localhost` and 127.0.0.1: ECDSA P-256 or RSA 2048. */
export async function selfSignedCertificate(dir: string, kind: 'ecdsa' | 'rsa'): Promise<KeyPair> {
  const keyFile = join(dir, `${kind}.key`);
  const certFile = join(dir, `${kind}.crt`);
  const algorithm = kind === 'ecdsa' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  const { code, output } = await run(
    ['req', '-x509', ...algorithm, '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    30_000,
  );
  if (code !== 0) throw new Error(`openssl req failed (${code}): ${output}`);
  return { key: await readFile(keyFile), cert: await readFile(certFile) };
}

export interface Handshake {
  /** A session was established (s_client printed its protocol). */
  readonly connected: boolean;
  /** `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`. */
  readonly protocol: string | undefined;
  /** OpenSSL name of the cipher suite. */
  readonly cipher: string | undefined;
  /** The server's key-exchange group as s_client reports it: `X25519, 253 bits`, `ECDH, prime256v1, 256 bits`. */
  readonly group: string | undefined;
  readonly exitCode: number;
  readonly output: string;
}

/** One handshake with `openssl s_client -brief` against 127.0.0.1:`port`; `args` pick versions and ciphers. */
export async function sClient(port: number, args: readonly string[]): Promise<Handshake> {
  const { code, output } = await run(['s_client', '-connect', `127.0.0.1:${port}`, '-brief', ...args], 10_000);
  const field = (label: string) => output.match(new RegExp(`^${label}: (.+)$`, 'm'))?.[1]?.trim();
  const protocol = field('Protocol version');
  return {
    connected: protocol !== undefined,
    protocol,
    cipher: field('Ciphersuite'),
    group: field('Server Temp Key') ?? field('Peer Temp Key'),
    exitCode: code,
    output,
  };
}

/** `openssl ciphers -V`: OpenSSL name → IANA code point, for every suite this OpenSSL knows. */
export async function opensslCipherCodes(): Promise<Map<string, number>> {
  const { code, output } = await run(['ciphers', '-V', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], 10_000);
  if (code !== 0) throw new Error(`openssl ciphers failed (${code}): ${output}`);
  const codes = new Map<string, number>();
  for (const match of output.matchAll(/^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)/gm)) {
    codes.set(match[3]!, Number.parseInt(`${match[1]}${match[2]}`, 16));
  }
  return codes;
}
