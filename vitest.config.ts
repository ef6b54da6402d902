import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time, also on a 2-core machine (vitest's default there is one): most
    // files wait on sockets and child processes, not the CPU, so one worker leaves a core idle.
    maxWorkers: 2,
    // Checks the test peers (nginx, kubectl, curl, …) once: a missing one fails CI=true runs, else one warning.
    globalSetup: ['test/support/peers-setup.ts'],
    // .ci/run asks for a JSON summary as well, to print a plain "N passed, N failed" line.
    reporters: process.env.LOCAL_ELB_VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.LOCAL_ELB_VITEST_JSON ? { outputFile: { json: process.env.LOCAL_ELB_VITEST_JSON } } : {}),
  },
});
