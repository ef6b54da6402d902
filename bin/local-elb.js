#!/usr/bin/env node
// The local-elb command. From the built package it runs dist/ (compiled JavaScript); in the
// repository it runs the TypeScript in src/ on Node's type stripping (default from Node 23.6;
// Node 22.12–22.17 need the flag, so the CLI is started again with it there).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const inRepository = existsSync(fileURLToPath(new URL('../.git', import.meta.url)));
const main = !inRepository && existsSync(built) ? built : source;
if (main === built || process.features.typescript) {
  delete process.env.LOCAL_ELB_RUN_MAIN;
  const { main: run } = await import(main);
  await run(process.argv);
} else {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings', main, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, LOCAL_ELB_RUN_MAIN: '1' } });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
