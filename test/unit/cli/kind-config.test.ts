/**
 * `local-elb kind --config <file>`: certificates: entries of the main schema, paths relative to
 * the file, every certificate read and checked at startup; anything else is an error naming the
 * file and the entry.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKindConfig } from '../../../src/cli/kind-config.ts';
import { openLocalCa } from '../../../src/tls/ca.ts';

const ARN = 'arn:aws:acm:eu-west-1:111122223333:certificate/shop';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-kind-config-'));
  const ca = await openLocalCa(join(dir, 'state'));
  const leaf = await ca.issue(['shop.example.com']);
  const other = await ca.issue(['other.example.com']);
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'shop.pem'), leaf.certPem);
  await writeFile(join(dir, 'certs', 'shop-key.pem'), leaf.keyPem);
  await writeFile(join(dir, 'certs', 'other-key.pem'), other.keyPem);
  // The local CA's own certificate as a trust store bundle, and one with a blank first line.
  await writeFile(join(dir, 'certs', 'bundle.pem'), ca.certPem);
  await writeFile(join(dir, 'certs', 'blank-bundle.pem'), `\n${ca.certPem}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('loadKindConfig', () => {
  it('maps ARNs to PEM files with paths relative to the file', async () => {
    const path = await write('kind.yaml', `certificates:\n  - certificateArn: ${ARN}\n    certificateFile: certs/shop.pem\n    privateKeyFile: ${join(dir, 'certs', 'shop-key.pem')}\n`);
    expect((await loadKindConfig(path)).certificates).toEqual([{ certificateArn: ARN, certificateFile: join(dir, 'certs', 'shop.pem'), privateKeyFile: join(dir, 'certs', 'shop-key.pem') }]);
  });

  it('takes trustStores (mutual-authentication names them), bundle paths relative to the file, each bundle checked', async () => {
    const path = await write('mtls.yaml', 'trustStores:\n  - { name: clients, caCertificatesBundleFile: certs/bundle.pem }\n');
    const config = await loadKindConfig(path);
    expect(config.trustStores).toEqual([{ name: 'clients', caCertificatesBundleFile: join(dir, 'certs', 'bundle.pem'), revocationFiles: [] }]);
  });

  it('takes an empty file as no certificates', async () => {
    const config = await loadKindConfig(await write('empty.yaml', ''));
    expect(config.certificates).toEqual([]);
    expect(config.elb.targetGroups).toEqual([]);
    expect(config.elb.loadBalancers).toEqual([]);
  });

  it('takes targetGroups and loadBalancers in the serve schema, for TargetGroupBindings to fill', async () => {
    const path = await write(
      'tgb.yaml',
      'targetGroups:\n  - { name: web, protocol: HTTP, port: 80, targetType: ip }\nloadBalancers:\n  - name: edge\n    type: application\n    listeners:\n      - { port: 0, protocol: HTTP, defaultActions: [{ type: forward, targetGroupName: web }] }\n',
    );
    const config = await loadKindConfig(path);
    expect(config.elb.targetGroups.map((g) => [g.name, g.targetType, g.targets])).toEqual([['web', 'ip', []]]);
    expect(config.elb.loadBalancers.map((lb) => lb.name)).toEqual(['edge']);
  });

  it.each([
    ['a field the file does not take', 'services: []\n', /services: not a field of a kind config file \(allowed: certificates, trustStores, targetGroups, loadBalancers; Services and Ingresses come from the cluster\)/],
    ['a list instead of a mapping', '- 1\n', /must be a mapping with certificates, trustStores, targetGroups or loadBalancers: got a list/],
    ['a listener forwarding to a group the file lacks (the schema’s rule)', 'loadBalancers:\n  - { name: edge, type: application, listeners: [{ port: 0, protocol: HTTP, defaultActions: [{ type: forward, targetGroupName: nope }] }] }\n', /nope/],
    ['local pods, which kind does not run', 'targetGroups:\n  - { name: web, protocol: HTTP, port: 80, pods: { command: [node, x.js], replicas: 1 } }\n', /targetGroups\[0\]\.pods: local pods are not run by local-elb kind/],
    ['an ARN that is not an ACM or IAM ARN (the schema’s rule)', 'certificates:\n  - { certificateArn: shop, certificateFile: certs/shop.pem, privateKeyFile: certs/shop-key.pem }\n', /certificates\[0\]\.certificateArn: must be an ACM or IAM certificate ARN/],
    ['a duplicate ARN (the schema’s rule)', `certificates:\n  - { certificateArn: ${ARN}, certificateFile: certs/shop.pem, privateKeyFile: certs/shop-key.pem }\n  - { certificateArn: ${ARN}, certificateFile: certs/shop.pem, privateKeyFile: certs/shop-key.pem }\n`, /certificates\[1\]\.certificateArn: duplicate certificate ARN/],
    ['a missing key field', `certificates:\n  - { certificateArn: ${ARN}, certificateFile: certs/shop.pem }\n`, /certificates\[0\]\.privateKeyFile/],
    ['a file that does not exist', `certificates:\n  - { certificateArn: ${ARN}, certificateFile: certs/nope.pem, privateKeyFile: certs/shop-key.pem }\n`, /certificates\[0\]\.certificateFile: cannot read .*certs\/nope\.pem: ENOENT/],
    ['a key that is not the certificate’s', `certificates:\n  - { certificateArn: ${ARN}, certificateFile: certs/shop.pem, privateKeyFile: certs/other-key.pem }\n`, /certificates\[0\]: .*the private key does not belong to the certificate/],
    ['a trust store bundle that breaks a rule (a blank line)', 'trustStores:\n  - { name: clients, caCertificatesBundleFile: certs/blank-bundle.pem }\n', /trustStores\[0\]: InvalidCaCertificatesBundle: trust store clients: .*certs\/blank-bundle\.pem: line 1 is blank/],
    ['a trust store bundle that does not exist', 'trustStores:\n  - { name: clients, caCertificatesBundleFile: certs/nope.pem }\n', /trustStores\[0\]: CaCertificatesBundleNotFound: trust store clients: cannot read .*certs\/nope\.pem/],
    ['a key file given as the certificate', `certificates:\n  - { certificateArn: ${ARN}, certificateFile: certs/shop-key.pem, privateKeyFile: certs/shop-key.pem }\n`, /certificates\[0\]: .*not a PEM certificate/],
  ])('rejects %s, naming the file', async (_name, text, message) => {
    const path = await write('bad.yaml', text);
    const err = await loadKindConfig(path).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`invalid configuration in ${path}`);
    expect((err as Error).message).toMatch(message);
  });

  it('names a missing file', async () => {
    await expect(loadKindConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read the kind config file: ENOENT/);
  });
});
