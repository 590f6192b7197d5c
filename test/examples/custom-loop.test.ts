import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { customLoop } from '../../examples/custom-loop.ts';
import { tempDir } from '../helpers/recipes.ts';
import { initBackend } from '../../src/backend/index.ts';

describe('examples/custom-loop.ts (a hand-written RL loop on the public API)', () => {
  // wasm: the backend a user of this machine gets; the pure-JS cpu backend takes a minute here.
  beforeAll(async () => { await initBackend('wasm'); });

  it('learns its rewards, holds frozen entries, leaks no tensors, and logs to MLflow', async () => {
    const mlruns = tempDir('custom-loop-');
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const history = await customLoop({ steps: 60, mlruns, onStep: () => counts.push(tf.memory().numTensors) });
    const mean = (xs: Record<string, number>[], k: string) => xs.reduce((a, m) => a + m[k]!, 0) / xs.length;
    // The policy learns to write "a" and the frozen-copy probe's digit penalty shrinks.
    expect(mean(history.slice(-5), 'rewards/total/mean')).toBeGreaterThan(mean(history.slice(0, 5), 'rewards/total/mean') + 0.3);
    expect(mean(history.slice(-5), 'rewards/no_digits/mean')).toBeGreaterThan(mean(history.slice(0, 5), 'rewards/no_digits/mean'));
    // Frozen block-0 attention: the example throws if an entry moved; the transform reports them.
    expect(history[0]!['gradients/freeze/frozen_entries']).toBeGreaterThan(0);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    const exp = readdirSync(mlruns).find((d) => existsSync(join(mlruns, d, 'meta.yaml')) && d !== '0' && d !== '.trash')!;
    const run = readdirSync(join(mlruns, exp)).find((d) => existsSync(join(mlruns, exp, d, 'metrics')))!;
    const lines = readFileSync(join(mlruns, exp, run, 'metrics', 'rewards', 'total', 'mean'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(60);
    expect(readFileSync(join(mlruns, exp, run, 'meta.yaml'), 'utf8')).toMatch(/status: 3/); // FINISHED
  }, 120_000);
});
