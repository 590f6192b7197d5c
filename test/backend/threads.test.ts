import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { logicalCpus, physicalCores, resolveThreads, threadsProblem } from '../../src/backend/threads.ts';

describe('thread count', () => {
  it('defaults to the physical cores, whatever the load average', () => {
    const cores = physicalCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(os.availableParallelism());
    expect(resolveThreads(undefined, {})).toBe(cores);
  });

  it('takes a requested count, else $BONSAI_THREADS, else the older $BONSAI_WASM_THREADS', () => {
    expect(resolveThreads(1, { BONSAI_THREADS: '2' })).toBe(1);
    expect(resolveThreads(undefined, { BONSAI_THREADS: '1', BONSAI_WASM_THREADS: '2' })).toBe(1);
    expect(resolveThreads(undefined, { BONSAI_WASM_THREADS: '1' })).toBe(1);
  });

  it('refuses 0, fractions and more than the CPUs, naming where the count came from', () => {
    expect(() => resolveThreads(0, {})).toThrow(/^threads 0: must be a whole number of threads, at least 1/);
    expect(() => resolveThreads(undefined, { BONSAI_THREADS: 'lots' })).toThrow(/^\$BONSAI_THREADS=lots: must be a whole number/);
    expect(() => resolveThreads(logicalCpus() + 1, {})).toThrow(new RegExp(`this machine has ${logicalCpus()} CPUs?`));
    expect(threadsProblem(1.5)).toMatch(/whole number/);
    expect(threadsProblem(logicalCpus())).toBeUndefined();
  });
});
