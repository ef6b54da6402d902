#!/usr/bin/env node
// The local-elb command. From the built package it runs dist/ (compiled JavaScript); in the
// repository it runs the TypeScript in src/ on Node's type stripping (default from Node 23.6;
// Node 22.12–22.17 need the flag). It starts itself again as a child when it needs Node flags
// it was not started with: that flag, and for the commands that carry traffic the tuned heap
// of bin/node-flags.js. The child is tied to this process over IPC and ends when it does.
//
// On a Node older than 22.12 (this file is plain JavaScript that any Node since 14 parses), the
// child runs on the Node 24 that scripts/node24 installs into .tools/node24, when there is one;
// otherwise local-elb exits 2 with one line saying which Node it found and how to fix it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { TRAFFIC_COMMANDS, trafficNodeFlags } from './node-flags.js';

const NEEDED = [22, 12];
const [major, minor] = process.versions.node.split('.').map(Number);
const oldNode = major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1]);

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const inRepository = existsSync(fileURLToPath(new URL('../.git', import.meta.url)));
const main = !inRepository && existsSync(built) ? built : source;
const toolsNode = fileURLToPath(new URL('../.tools/node24/node_modules/.bin/node', import.meta.url));

let node = process.execPath;
if (oldNode) {
  if (!existsSync(toolsNode) || process.env.LOCAL_ELB_CHILD === '1') {
    const fix = existsSync(fileURLToPath(new URL('../scripts/node24', import.meta.url)))
      ? 'run `scripts/node24 npm ci` once in the repository (it installs Node.js 24 into .tools/node24), then this command again'
      : 'install Node.js 22.12 or later (24 LTS: https://nodejs.org/), then run this command again';
    process.stderr.write(`local-elb: needs Node.js >= ${NEEDED.join('.')}, found ${process.version} (${process.execPath}); ${fix}\n`);
    process.exit(2);
  }
  node = toolsNode;
} else {
  // V8's code cache and the type-stripped sources, kept between runs: `--help` in 0.1 s, not 0.2 s.
  module.enableCompileCache?.();
}

// The first word that is not an option or the value of a global option (`--state-dir DIR`).
const GLOBAL_OPTIONS_WITH_VALUES = new Set(['--state-dir']);
const command = process.argv.slice(2).find((a, i, args) => !a.startsWith('-') && !GLOBAL_OPTIONS_WITH_VALUES.has(args[i - 1] ?? ''));
const have = oldNode ? new Set() : new Set([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0]));
// The Node in .tools is 24, which strips types by default; this one may need the flag.
const needsStripFlag = main === source && !oldNode && !process.features.typescript;
const wanted = [
  ...(needsStripFlag ? ['--experimental-strip-types', '--no-warnings'] : []),
  ...(TRAFFIC_COMMANDS.has(command) ? trafficNodeFlags() : []),
].filter((f) => !have.has(f.split('=')[0]));

const isChild = process.env.LOCAL_ELB_CHILD === '1';
delete process.env.LOCAL_ELB_CHILD;
if (!oldNode && (wanted.length === 0 || isChild)) {
  // A child of another local-elb process ends with it, whatever ends it (a SIGKILL too).
  if (isChild && process.channel !== undefined) {
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  const { main: run } = await import(main);
  await run(process.argv);
} else {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(node, [...(oldNode ? [] : process.execArgv), ...wanted, self, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOCAL_ELB_CHILD: '1' },
  });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
