import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: tfjs work is CPU-bound, so more workers only thrash.
    maxWorkers: 2,
    pool: 'forks',
  },
});
