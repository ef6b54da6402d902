/**
 * `local-elb ca path` and `local-elb ca install`: where the local CA's certificate is, and the
 * commands that make this machine trust it. local-elb prints those commands and runs none of
 * them (they need root, and they change what the whole machine trusts). The CA module, with its
 * X.509 library, is loaded only when one of these commands runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

/** Where a system-wide trust store is, and how it is updated. */
export type TrustStore = 'debian' | 'fedora' | 'macos' | 'windows';

/**
 * This machine's trust store: from `process.platform`, and on Linux from /etc/os-release's
 * `ID` and `ID_LIKE` (undefined for a distribution of neither family, or another platform).
 */
export function currentTrustStore(platform: NodeJS.Platform, osRelease: string | undefined): TrustStore | undefined {
  if (platform === 'darwin') return 'macos';
  if (platform === 'win32') return 'windows';
  if (platform !== 'linux' || osRelease === undefined) return undefined;
  const ids = [...osRelease.matchAll(/^(?:ID|ID_LIKE)=["']?([^"'\n]*)/gm)].flatMap((m) => m[1]!.split(/\s+/));
  if (ids.some((id) => ['debian', 'ubuntu'].includes(id))) return 'debian';
  if (ids.some((id) => ['fedora', 'rhel', 'centos'].includes(id))) return 'fedora';
  return undefined;
}

/** A path as one word for a POSIX shell. */
function shellWord(path: string): string {
  return /^[\w/.,:@%+=-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

function windowsWord(path: string): string {
  return /[\s&()^]/.test(path) ? `"${path}"` : path;
}

interface Section {
  readonly title: string;
  readonly commands: readonly string[];
}

function stores(certPath: string): Record<TrustStore, Section> {
  const cert = shellWord(certPath);
  return {
    debian: {
      title: 'Debian, Ubuntu (the system store: curl, wget, Python, Go, … and Node with --use-openssl-ca)',
      commands: [`sudo cp ${cert} /usr/local/share/ca-certificates/local-elb.crt && sudo update-ca-certificates`],
    },
    fedora: {
      title: 'Fedora, RHEL, CentOS (the system store)',
      commands: [`sudo cp ${cert} /etc/pki/ca-trust/source/anchors/local-elb.pem && sudo update-ca-trust`],
    },
    macos: {
      title: 'macOS (the System keychain: Safari, Chrome)',
      commands: [`sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${cert}`],
    },
    windows: {
      title: 'Windows (the machine ROOT store: Edge, Chrome; in an administrator prompt)',
      commands: [`certutil -addstore -f ROOT ${windowsWord(certPath)}`],
    },
  };
}

/** What `local-elb ca install` prints: this machine's store first, then the rest. */
export function caInstallInstructions(certPath: string, keyPath: string, current: TrustStore | undefined): string {
  const cert = shellWord(certPath);
  const byStore = stores(certPath);
  const nss: Section = {
    title: 'Chrome and Firefox on Linux (their own NSS databases; certutil is in libnss3-tools or nss-tools)',
    commands: [
      `certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n local-elb -i ${cert}`,
      `for profile in $HOME/.mozilla/firefox/*/; do certutil -d "sql:$profile" -A -t C,, -n local-elb -i ${cert}; done`,
    ],
  };
  const node: Section = {
    title: 'Node.js (read when node starts; no root needed)',
    commands: [current === 'windows' ? `$env:NODE_EXTRA_CA_CERTS = "${certPath}"` : `export NODE_EXTRA_CA_CERTS=${cert}`],
  };
  const curl: Section = { title: 'curl, one command at a time', commands: [`curl --cacert ${cert} https://localhost:8443/`] };
  const linux = current === 'debian' || current === 'fedora';
  const others = (['debian', 'fedora', 'macos', 'windows'] as const).filter((store) => store !== current).map((store) => byStore[store]);
  const sections: Section[] = [
    ...(current !== undefined ? [byStore[current]] : []),
    ...(linux ? [nss] : []),
    node,
    curl,
    ...others,
    ...(linux ? [] : [nss]),
  ];
  return [
    `local-elb's CA certificate: ${certPath}`,
    `These commands make clients trust it; local-elb runs none of them. Trusting it lets whoever can read`,
    `${keyPath} make certificates those clients accept: keep that file private (it is mode 0600).`,
    '',
    ...sections.flatMap((section) => [`${section.title}:`, ...section.commands.map((c) => `  ${c}`), '']),
  ].join('\n');
}

function readOsRelease(): string | undefined {
  try {
    return readFileSync('/etc/os-release', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Adds `ca path` and `ca install`. The state directory is the program's `--state-dir`, else
 * `$LOCAL_ELB_STATE_DIR`, else `~/.local-elb`.
 */
export function addCaCommands(program: Command): void {
  const openCa = async (cmd: Command) => {
    const { defaultStateDir, openLocalCa } = await import('../tls/ca.ts');
    const { stateDir } = cmd.optsWithGlobals<{ stateDir?: string }>();
    return openLocalCa(stateDir ?? defaultStateDir());
  };
  const ca = program.command('ca').description('the local certificate authority that signs the certificates of HTTPS and TLS listeners');
  ca.command('path')
    .description("print the CA certificate's path, creating the CA on first use (for curl --cacert and NODE_EXTRA_CA_CERTS)")
    .action(async (_opts: unknown, cmd: Command) => {
      process.stdout.write(`${(await openCa(cmd)).certPath}\n`);
    });
  ca.command('install')
    .description('print the commands that make this machine, its browsers, Node and curl trust the CA (runs none of them)')
    .action(async (_opts: unknown, cmd: Command) => {
      const authority = await openCa(cmd);
      const store = currentTrustStore(process.platform, process.platform === 'linux' ? readOsRelease() : undefined);
      process.stdout.write(caInstallInstructions(authority.certPath, authority.keyPath, store));
    });
}
