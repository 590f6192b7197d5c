import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainSae, type SaeTrainOptions } from '../../src/sae/train.ts';
import { Rng } from '../../src/util/rng.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Rows that are sums of `active` of `f` planted unit directions in R^d, plus a little noise. */
function planted(n: number, d: number, f: number, active: number, seed: number) {
  const rng = new Rng(seed);
  const dirs = Array.from({ length: f }, () => {
    const v = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const picked = rng.shuffle(Array.from({ length: f }, (_, j) => j)).slice(0, active);
    for (const j of picked) {
      const a = 1 + rng.next();
      for (let k = 0; k < d; k++) X[i * d + k] += a * dirs[j]![k]!;
    }
    for (let k = 0; k < d; k++) X[i * d + k] += 0.01 * rng.normal();
  }
  return { rows: { X, n, d }, dirs };
}

const base = (o: Partial<SaeTrainOptions>): SaeTrainOptions => ({
  hook: 'h', fingerprint: 'fp', latents: 32, k: 2, steps: 250, batchSize: 64, lr: 1e-2, seed: 0, heldOut: 0.1, auxK: 16, auxCoef: 1 / 32, deadSteps: 50, ...o,
});

describe('TopK SAE training', () => {
  it('recovers planted sparse features and cuts the reconstruction error', () => {
    const { rows, dirs } = planted(1500, 16, 16, 2, 1);
    const untrained = trainSae(rows, base({ steps: 1 }));
    const sae = trainSae(rows, base({}));
    const m = sae.meta.metrics!;
    expect(m.mse).toBeLessThan(untrained.meta.metrics!.mse / 5);
    expect(m.fve).toBeGreaterThan(0.9);
    expect(m.l0).toBeLessThanOrEqual(2);
    // Every planted direction has a decoder row within cosine 0.9 of it (rows are unit norm).
    const W = sae.weights.W_dec.arraySync() as number[][];
    const best = dirs.map((v) => Math.max(...W.map((r) => r.reduce((a, x, k) => a + x * v[k]!, 0))));
    expect(Math.min(...best)).toBeGreaterThan(0.9);
    W.forEach((r) => expect(Math.hypot(...r)).toBeCloseTo(1, 4));
    untrained.dispose();
    sae.dispose();
  }, 300_000); // ~20 s alone; the shared 2-core machine can be 10x slower

  it('holds numTensors flat across steps', () => {
    const { rows } = planted(600, 8, 8, 2, 2);
    const counts: number[] = [];
    const sae = trainSae(rows, base({ latents: 16, k: 2, steps: 30, batchSize: 64, deadSteps: 1, onStep: () => counts.push(tf.memory().numTensors), logEvery: 1 }));
    expect(new Set(counts.slice(1)).size).toBe(1);
    const before = tf.memory().numTensors;
    sae.dispose();
    expect(tf.memory().numTensors).toBe(before - 4);
  });
});
