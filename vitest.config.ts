import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Checks the test peers (nginx, kubectl, curl, …) once: a missing one fails CI=true runs, else one warning.
    globalSetup: ['test/support/peers-setup.ts'],
    // .ci/run asks for a JSON summary as well, to print a plain "N passed, N failed" line.
    reporters: process.env.LOCAL_ELB_VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.LOCAL_ELB_VITEST_JSON ? { outputFile: { json: process.env.LOCAL_ELB_VITEST_JSON } } : {}),
  },
});
