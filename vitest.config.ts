import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Lab tests build network namespaces and start servers: they need time, and
    // two cores do not take many of them at once.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Rebuilds a stale dist/ and stages what nobody runs when the checkout is private.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/private-state.ts'],
    pool: 'forks',
    maxWorkers: 2,
    reporters: process.env.VITEST_JSON ? ['default', ['json', { outputFile: process.env.VITEST_JSON }]] : ['default'],
  },
});
