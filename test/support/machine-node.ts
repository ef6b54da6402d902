/**
 * The machine's own `node`: the first one on PATH that is not the repository's .tools/node24
 * (which `scripts/node24` puts first when the machine's Node is too old). What a newcomer's
 * shell runs when they type `node` or `npx`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TOOLS = join(REPO, '.tools');

/** PATH without the repository's .tools entries. */
export function machinePath(path = process.env.PATH ?? ''): string {
  return path
    .split(delimiter)
    .filter((dir) => dir !== '' && !dir.startsWith(TOOLS))
    .join(delimiter);
}

export interface MachineNode {
  readonly path: string;
  readonly version: string;
  /** Older than the 22.12 the package needs. */
  readonly old: boolean;
}

export function machineNode(): MachineNode | undefined {
  for (const dir of machinePath().split(delimiter)) {
    const path = join(dir, 'node');
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const version = execFileSync(path, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    const [major, minor] = version.slice(1).split('.').map(Number) as [number, number];
    return { path, version, old: major < 22 || (major === 22 && minor < 12) };
  }
  return undefined;
}
