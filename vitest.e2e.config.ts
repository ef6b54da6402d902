import { defineConfig } from 'vitest/config';

// Opt-in end-to-end tests against a real kind cluster: LOCAL_ELB_E2E_KIND=1 npm run test:e2e
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
