#!/usr/bin/env node
// Runs the TypeScript CLI on Node's built-in type stripping (default from Node 23.6; Node
// 22.12–22.17 need the flag, so the CLI is started again with it there).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
if (process.features.typescript) {
  delete process.env.LOCAL_ELB_RUN_MAIN;
  const { main: run } = await import(main);
  await run(process.argv);
} else {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings', main, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, LOCAL_ELB_RUN_MAIN: '1' } });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
