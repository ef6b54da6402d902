#!/usr/bin/env node
// The local-elb command. From the built package it runs dist/ (compiled JavaScript); in the
// repository it runs the TypeScript in src/ on Node's type stripping (default from Node 23.6;
// Node 22.12–22.17 need the flag). It starts itself again as a child when it needs Node flags
// it was not started with: that flag, and for the commands that carry traffic the tuned heap
// of bin/node-flags.js. The child is tied to this process over IPC and ends when it does.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TRAFFIC_COMMANDS, trafficNodeFlags } from './node-flags.js';

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const inRepository = existsSync(fileURLToPath(new URL('../.git', import.meta.url)));
const main = !inRepository && existsSync(built) ? built : source;

// The first word that is not an option or the value of a global option (`--state-dir DIR`).
const GLOBAL_OPTIONS_WITH_VALUES = new Set(['--state-dir']);
const command = process.argv.slice(2).find((a, i, args) => !a.startsWith('-') && !GLOBAL_OPTIONS_WITH_VALUES.has(args[i - 1] ?? ''));
const have = new Set([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0]));
const wanted = [
  ...(main === source && !process.features.typescript ? ['--experimental-strip-types', '--no-warnings'] : []),
  ...(TRAFFIC_COMMANDS.has(command) ? trafficNodeFlags() : []),
].filter((f) => !have.has(f.split('=')[0]));

if (wanted.length === 0 || process.env.LOCAL_ELB_CHILD === '1') {
  delete process.env.LOCAL_ELB_RUN_MAIN;
  const { main: run } = await import(main);
  await run(process.argv);
} else {
  const child = spawn(process.execPath, [...process.execArgv, ...wanted, main, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, LOCAL_ELB_RUN_MAIN: '1', LOCAL_ELB_CHILD: '1' },
  });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
