import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isElbError } from '../../../src/core/errors.ts';
import { BACKDATE_MS, defaultStateDir, LEAF_VALIDITY_DAYS, openLocalCa, type KeyType } from '../../../src/tls/ca.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** A fixed "now" with a fraction of a second, which certificates cannot encode. */
const T0 = Date.UTC(2030, 0, 15, 12, 0, 0) + 250;
const T0_SECONDS = Date.UTC(2030, 0, 15, 12, 0, 0);
const fixedNow = () => T0;

const dirs: string[] = [];
async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'local-elb-ca-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('openLocalCa: the CA it creates', () => {
  it('is a P-256 CA, critical basicConstraints CA:true pathLen 0, keyCertSign and cRLSign, 10 years from an hour ago', async () => {
    const dir = await stateDir();
    const ca = await openLocalCa(dir, { now: fixedNow });
    expect(ca.certPath).toBe(join(dir, 'ca', 'ca.pem'));
    expect(ca.keyPath).toBe(join(dir, 'ca', 'ca-key.pem'));
    expect(await readFile(ca.certPath, 'utf8')).toBe(ca.certPem);

    const cert = new x509.X509Certificate(ca.certPem);
    expect(cert.subject).toMatch(/^CN=local-elb development CA \(.+@.+\), O=local-elb$/);
    expect(ca.subject).toBe(cert.subject);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.notBefore.getTime()).toBe(T0_SECONDS - BACKDATE_MS);
    expect(cert.notAfter.getTime()).toBe(Date.UTC(2040, 0, 15, 12, 0, 0));
    expect(ca.notAfter.getTime()).toBe(cert.notAfter.getTime());

    const basic = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect({ ca: basic.ca, pathLength: basic.pathLength, critical: basic.critical }).toEqual({ ca: true, pathLength: 0, critical: true });
    const usage = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(usage.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(usage.critical).toBe(true);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);

    const node = new X509Certificate(ca.certPem);
    expect(node.ca).toBe(true);
    expect(node.verify(node.publicKey)).toBe(true); // self-signed
    expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const keyPem = await readFile(ca.keyPath, 'utf8');
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/); // PKCS#8
    expect(spki(createPublicKey(createPrivateKey(keyPem)))).toEqual(spki(node.publicKey));
  });

  it.skipIf(process.platform === 'win32')('keeps ca/ at 0700, ca.pem at 0644 and ca-key.pem at 0600, and nothing else in the state directory', async () => {
    const dir = await stateDir();
    await openLocalCa(dir);
    expect((await stat(join(dir, 'ca'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'ca', 'ca.pem'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'ca', 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['ca']);
    expect((await readdir(join(dir, 'ca'))).sort()).toEqual(['ca-key.pem', 'ca.pem']);
  });

  it('creates the state directory itself, nested', async () => {
    const dir = join(await stateDir(), 'a', 'b');
    const ca = await openLocalCa(dir);
    expect(ca.certPath).toBe(join(dir, 'ca', 'ca.pem'));
  });

  it('reads the same CA when opened again, and a leaf from one verifies with the other', async () => {
    const dir = await stateDir();
    const first = await openLocalCa(dir);
    const second = await openLocalCa(dir);
    expect(second.certPem).toBe(first.certPem);
    expect(second.subject).toBe(first.subject);
    const leaf = new X509Certificate((await second.issue(['localhost'])).certPem);
    expect(leaf.verify(new X509Certificate(first.certPem).publicKey)).toBe(true);
  });

  it('makes a CA in an empty ca/ directory (one made by hand)', async () => {
    const dir = await stateDir();
    await mkdir(join(dir, 'ca'));
    const ca = await openLocalCa(dir);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
  });
});

describe('issue: leaf certificates', () => {
  it.each<[KeyType, string, number, number]>([
    ['ecdsa-p256', 'ec', 256, x509.KeyUsageFlags.digitalSignature],
    ['rsa-2048', 'rsa', 2048, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment],
  ])('a %s leaf: SAN DNS and IP entries, serverAuth, not a CA, 397 days from an hour ago, signed by the CA', async (keyType, nodeKeyType, bits, usages) => {
    const ca = await openLocalCa(await stateDir(), { now: fixedNow });
    const issued = await ca.issue(['localhost', '127.0.0.1', '::1', '*.localtest.me'], { keyType });
    expect(issued.keyType).toBe(keyType);
    expect(issued.names).toEqual(['*.localtest.me', '127.0.0.1', '::1', 'localhost']);

    const cert = new x509.X509Certificate(issued.certPem);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'dns', value: '*.localtest.me' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
      { type: 'dns', value: 'localhost' },
    ]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    const usage = cert.getExtension(x509.KeyUsagesExtension)!;
    expect({ usages: usage.usages, critical: usage.critical }).toEqual({ usages, critical: true });
    const basic = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect({ ca: basic.ca, critical: basic.critical }).toEqual({ ca: false, critical: true });
    const caKeyId = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(caKeyId);
    expect(cert.issuer).toBe(ca.subject);

    const notBefore = T0_SECONDS - BACKDATE_MS;
    expect(cert.notBefore.getTime()).toBe(notBefore);
    expect(cert.notAfter.getTime()).toBe(notBefore + LEAF_VALIDITY_DAYS * DAY_MS);
    expect(issued.notBefore.getTime()).toBe(notBefore);
    expect(issued.notAfter.getTime()).toBe(cert.notAfter.getTime());
    expect(issued.serialNumber).toBe(cert.serialNumber);

    // Node's own X.509 code, independent of the library that wrote the certificate.
    const leaf = new X509Certificate(issued.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node reports the extended key usage here
    expect(leaf.subjectAltName).toBe('DNS:*.localtest.me, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(leaf.checkHost('a.localtest.me')).toBeDefined();
    expect(leaf.checkHost('a.b.localtest.me')).toBeUndefined(); // a wildcard covers one label
    expect(leaf.checkHost('example.com')).toBeUndefined();
    expect(leaf.checkIP('127.0.0.2')).toBeUndefined();

    const key = createPrivateKey(issued.keyPem);
    expect(issued.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(key.asymmetricKeyType).toBe(nodeKeyType);
    expect(nodeKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : key.asymmetricKeyDetails?.modulusLength).toBe(
      nodeKeyType === 'ec' ? 'prime256v1' : bits,
    );
    expect(spki(createPublicKey(key))).toEqual(spki(leaf.publicKey));
  });

  it('encodes an IPv4-mapped IPv6 address as the address it is', async () => {
    const ca = await openLocalCa(await stateDir());
    const leaf = new X509Certificate((await ca.issue(['::ffff:127.0.0.1'])).certPem);
    expect(leaf.subjectAltName).toBe('IP Address:0:0:0:0:0:FFFF:7F00:1');
  });

  it('gives the same certificate for the same names in any order and key type, and a new one for another set or key type', async () => {
    const ca = await openLocalCa(await stateDir());
    const a = await ca.issue(['localhost', '127.0.0.1']);
    expect(await ca.issue(['127.0.0.1', 'LOCALHOST', 'localhost'])).toBe(a);
    expect(await ca.issue(['localhost', '127.0.0.1'], { keyType: 'ecdsa-p256' })).toBe(a);
    const rsa = await ca.issue(['localhost', '127.0.0.1'], { keyType: 'rsa-2048' });
    expect(rsa.serialNumber).not.toBe(a.serialNumber);
    expect(await ca.issue(['localhost', '127.0.0.1'], { keyType: 'rsa-2048' })).toBe(rsa);
    expect((await ca.issue(['localhost'])).serialNumber).not.toBe(a.serialNumber);
    const [c, d] = await Promise.all([ca.issue(['x.test']), ca.issue(['x.test'])]);
    expect(c).toBe(d); // asked twice at once: issued once
  });

  it('issues again a day before the cached certificate expires', async () => {
    let nowMs = T0;
    const ca = await openLocalCa(await stateDir(), { now: () => nowMs });
    const first = await ca.issue(['localhost']);
    nowMs = first.notAfter.getTime() - DAY_MS - 1000;
    expect(await ca.issue(['localhost'])).toBe(first);
    nowMs = first.notAfter.getTime() - 12 * HOUR_MS;
    const second = await ca.issue(['localhost']);
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.notBefore.getTime()).toBe(Math.floor(nowMs / 1000) * 1000 - BACKDATE_MS);
  });

  it('never outlives the CA: a leaf issued near the end of the CA ends with it', async () => {
    let nowMs = T0;
    const ca = await openLocalCa(await stateDir(), { now: () => nowMs });
    nowMs = ca.notAfter.getTime() - 30 * DAY_MS;
    const leaf = await ca.issue(['localhost']);
    expect(leaf.notAfter.getTime()).toBe(ca.notAfter.getTime());
  });

  it.each([
    [['localhost', 'bad_name'], 'certificate name "bad_name" is not a DNS name'],
    [['*.com'], 'certificate name "*.com"'],
    [['localhost:8443'], 'certificate name "localhost:8443"'],
    [[], 'at least one name'],
  ])('rejects %j with ELB_ERR_INVALID_ARGUMENT naming the value', async (names, message) => {
    const ca = await openLocalCa(await stateDir());
    const err = await rejection(ca.issue(names));
    expect(isElbError(err, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect(err.message).toContain(message);
  });

  it('rejects an unknown key type, naming it and the ones allowed', async () => {
    const ca = await openLocalCa(await stateDir());
    const err = await rejection(ca.issue(['localhost'], { keyType: 'dsa-1024' as KeyType }));
    expect(err.message).toBe('keyType must be one of ecdsa-p256, rsa-2048: got "dsa-1024"');
  });
});

describe('openLocalCa: processes racing on a fresh state directory', () => {
  it('ends with one CA when 8 opens start at once in one process, and leaves no staging directory', async () => {
    const dir = await stateDir();
    const cas = await Promise.all(Array.from({ length: 8 }, () => openLocalCa(dir)));
    expect(new Set(cas.map((ca) => ca.certPem)).size).toBe(1);
    expect(cas[0]!.certPem).toBe(await readFile(join(dir, 'ca', 'ca.pem'), 'utf8'));
    expect(await readdir(dir)).toEqual(['ca']);
  });

  it('ends with one CA when two child processes and this one open it at the same moment', async () => {
    const dir = await stateDir();
    const caModule = new URL('../../../src/tls/ca.ts', import.meta.url).href;
    // Each child loads the module, says "ready", and opens the CA when told "go" (a start barrier).
    const script = `
      import { openLocalCa } from ${JSON.stringify(caModule)};
      process.stdout.write('ready\\n');
      process.stdin.once('data', async () => {
        const ca = await openLocalCa(process.argv[1]);
        process.stdout.write(JSON.stringify(ca.certPem) + '\\n');
        process.exit(0);
      });`;
    const children = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      return { child, next: async () => (await lines.next()).value as string | undefined };
    });
    try {
      for (const c of children) expect(await c.next()).toBe('ready');
      for (const c of children) c.child.stdin!.write('go\n');
      const [mine, ...theirs] = await Promise.all([openLocalCa(dir).then((ca) => ca.certPem), ...children.map(async (c) => JSON.parse((await c.next())!) as string)]);
      expect(theirs).toEqual([mine, mine]);
      expect(await readFile(join(dir, 'ca', 'ca.pem'), 'utf8')).toBe(mine);
      expect(await readdir(dir)).toEqual(['ca']);
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    }
  });
});

describe('openLocalCa: a CA it cannot use', () => {
  const otherKeyPem = async () => readFile(join((await openLocalCa(await stateDir())).certPath, '..', 'ca-key.pem'), 'utf8');
  const cases: Array<[string, (caDir: string) => Promise<void>, string]> = [
    ['ca.pem is not a certificate', (d) => writeFile(join(d, 'ca.pem'), 'not a certificate\n'), 'ca.pem is not a PEM certificate'],
    [
      'ca.pem was cut short (half-written)',
      async (d) => {
        const pem = await readFile(join(d, 'ca.pem'), 'utf8');
        await writeFile(join(d, 'ca.pem'), pem.slice(0, pem.length / 2));
      },
      'ca.pem is not a PEM certificate',
    ],
    ['ca.pem is missing', (d) => rm(join(d, 'ca.pem')), 'ca.pem is missing'],
    ['ca-key.pem is missing', (d) => rm(join(d, 'ca-key.pem')), 'ca-key.pem is missing'],
    ['ca-key.pem is not a key', (d) => writeFile(join(d, 'ca-key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'ca-key.pem is not a PEM private key'],
    ['ca-key.pem is another CA’s key', async (d) => writeFile(join(d, 'ca-key.pem'), await otherKeyPem()), 'ca-key.pem is not the key of'],
    [
      'ca-key.pem is an RSA key',
      (d) => writeFile(join(d, 'ca-key.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' })),
      'ca-key.pem is not an ECDSA P-256 key',
    ],
    [
      'ca.pem is a leaf, not a CA',
      async (d) => writeFile(join(d, 'ca.pem'), (await (await openLocalCa(join(d, '..'))).issue(['localhost'])).certPem),
      'ca.pem is not a CA certificate',
    ],
    [
      'ca is a file',
      async (d) => {
        await rm(d, { recursive: true });
        await writeFile(d, 'x');
      },
      'ca is not a directory',
    ],
  ];

  it.each(cases)('%s: ELB_ERR_CA_INVALID naming the file and the fix', async (_name, damage, problem) => {
    const dir = await stateDir();
    await openLocalCa(dir);
    await damage(join(dir, 'ca'));
    const err = await rejection(openLocalCa(dir));
    expect(isElbError(err, ErrorCodes.CA_INVALID)).toBe(true);
    expect(err.message).toContain(`the local CA in ${join(dir, 'ca')} cannot be used: `);
    expect(err.message).toContain(problem);
    expect(err.message).toContain(`Delete ${join(dir, 'ca')} and local-elb makes a new CA on next use`);
  });

  it('an expired CA: ELB_ERR_CA_INVALID with the date it expired', async () => {
    const dir = await stateDir();
    const ca = await openLocalCa(dir, { now: fixedNow });
    const err = await rejection(openLocalCa(dir, { now: () => ca.notAfter.getTime() + 1000 }));
    expect(isElbError(err, ErrorCodes.CA_INVALID)).toBe(true);
    expect(err.message).toContain(`ca.pem expired on ${ca.notAfter.toISOString()}`);
  });

  it('deleting the directory, as the message says, gives a new CA', async () => {
    const dir = await stateDir();
    const before = await openLocalCa(dir);
    await writeFile(join(dir, 'ca', 'ca.pem'), 'garbage');
    await expect(openLocalCa(dir)).rejects.toThrow('cannot be used');
    await rm(join(dir, 'ca'), { recursive: true });
    expect((await openLocalCa(dir)).certPem).not.toBe(before.certPem);
  });

  it('a state directory under a file: ELB_ERR_STATE_DIR_FAILED with the fs error', async () => {
    const file = join(await stateDir(), 'file');
    await writeFile(file, 'x');
    const err = await rejection(openLocalCa(join(file, 'state')));
    expect(isElbError(err, ErrorCodes.STATE_DIR_FAILED)).toBe(true);
    expect(err.message).toContain(`cannot use ${join(file, 'state')} as local-elb's state directory`);
    expect(err.message).toContain('ENOTDIR');
  });
});

describe('defaultStateDir', () => {
  it.each([
    ['~/.local-elb without LOCAL_ELB_STATE_DIR', {}, join('/home/alice', '.local-elb')],
    ['~/.local-elb when LOCAL_ELB_STATE_DIR is empty', { LOCAL_ELB_STATE_DIR: '' }, join('/home/alice', '.local-elb')],
    ['LOCAL_ELB_STATE_DIR when set', { LOCAL_ELB_STATE_DIR: '/srv/elb-state' }, '/srv/elb-state'],
    ['LOCAL_ELB_STATE_DIR resolved against the working directory', { LOCAL_ELB_STATE_DIR: 'state' }, join(process.cwd(), 'state')],
  ])('%s', (_name, env, expected) => {
    expect(defaultStateDir(env, '/home/alice')).toBe(expected);
  });
});
