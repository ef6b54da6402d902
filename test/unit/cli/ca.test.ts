import { describe, expect, it } from 'vitest';
import { caInstallInstructions, currentTrustStore, type TrustStore } from '../../../src/cli/ca.ts';

const osRelease = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n',
  ubuntu: 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n',
  fedora: 'NAME="Fedora Linux"\nID=fedora\n',
  rocky: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
  arch: 'NAME="Arch Linux"\nID=arch\n',
};

describe('currentTrustStore', () => {
  it.each<[string, NodeJS.Platform, string | undefined, TrustStore | undefined]>([
    ['Debian', 'linux', osRelease.debian, 'debian'],
    ['Ubuntu (ID_LIKE=debian)', 'linux', osRelease.ubuntu, 'debian'],
    ['Fedora', 'linux', osRelease.fedora, 'fedora'],
    ['Rocky (ID_LIKE="rhel centos fedora")', 'linux', osRelease.rocky, 'fedora'],
    ['Arch (neither family)', 'linux', osRelease.arch, undefined],
    ['Linux without /etc/os-release', 'linux', undefined, undefined],
    ['macOS', 'darwin', undefined, 'macos'],
    ['Windows', 'win32', undefined, 'windows'],
    ['FreeBSD', 'freebsd', undefined, undefined],
  ])('%s → %s', (_name, platform, release, store) => {
    expect(currentTrustStore(platform, release)).toBe(store);
  });
});

describe('caInstallInstructions', () => {
  const cert = '/home/alice/.local-elb/ca/ca.pem';
  const key = '/home/alice/.local-elb/ca/ca-key.pem';
  const titles = (text: string) => text.split('\n').filter((line) => /^\S.*:$/.test(line));

  it('prints every platform’s command with the certificate path, and runs nothing', () => {
    const text = caInstallInstructions(cert, key, 'debian');
    expect(text).toContain(`local-elb's CA certificate: ${cert}`);
    expect(text).toContain(`sudo cp ${cert} /usr/local/share/ca-certificates/local-elb.crt && sudo update-ca-certificates`);
    expect(text).toContain(`sudo cp ${cert} /etc/pki/ca-trust/source/anchors/local-elb.pem && sudo update-ca-trust`);
    expect(text).toContain(`sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${cert}`);
    expect(text).toContain(`certutil -addstore -f ROOT ${cert}`);
    expect(text).toContain(`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n local-elb -i ${cert}`);
    expect(text).toContain(`export NODE_EXTRA_CA_CERTS=${cert}`);
    expect(text).toContain(`curl --cacert ${cert} https://localhost:8443/`);
    expect(text).toContain(key);
  });

  it.each<[TrustStore | undefined, string]>([
    ['debian', 'Debian, Ubuntu'],
    ['fedora', 'Fedora, RHEL, CentOS'],
    ['macos', 'macOS'],
    ['windows', 'Windows'],
    [undefined, 'Node.js'],
  ])('on %s, shows %s first', (store, first) => {
    expect(titles(caInstallInstructions(cert, key, store))[0]).toMatch(new RegExp(`^${first}`));
  });

  it('on Linux, puts the browsers’ NSS databases right after the system store', () => {
    expect(titles(caInstallInstructions(cert, key, 'fedora'))[1]).toMatch(/^Chrome and Firefox on Linux/);
    expect(titles(caInstallInstructions(cert, key, 'macos')).at(-1)).toMatch(/^Chrome and Firefox on Linux/);
  });

  it('quotes a path with spaces or quotes for the shell', () => {
    const text = caInstallInstructions("/Users/o'brien/My State/ca/ca.pem", key, 'macos');
    expect(text).toContain(`System.keychain '/Users/o'\\''brien/My State/ca/ca.pem'`);
    const windows = caInstallInstructions('C:\\Users\\Al Ice\\.local-elb\\ca\\ca.pem', key, 'windows');
    expect(windows).toContain('certutil -addstore -f ROOT "C:\\Users\\Al Ice\\.local-elb\\ca\\ca.pem"');
    expect(windows).toContain('$env:NODE_EXTRA_CA_CERTS = "C:\\Users\\Al Ice\\.local-elb\\ca\\ca.pem"');
  });
});
