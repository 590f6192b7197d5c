import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: tfjs work is CPU-bound, so more workers only thrash.
    maxWorkers: 2,
    // ...and so does each worker's tfjs: two workers on two cores, each with bonsai's default
    // (the physical cores) for XNNPACK and BLAS, would oversubscribe the machine 2x.
    env: { BONSAI_THREADS: process.env.BONSAI_THREADS ?? '1' },
    pool: 'forks',
  },
});
