import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    // End-to-end tests start real processes; give them room on a 2-core machine.
    testTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    hookTimeout: 120_000,
  },
});
