import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipTransform } from '../../src/gradients/index.ts';
import { AdamW, createTrainStep, type LmBatch } from '../../src/trainer/index.ts';
import { randomBatch, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

function halves(b: LmBatch): [LmBatch, LmBatch] {
  const n = (b.batchSize / 2) * b.seqLen;
  const part = (s: number): LmBatch => ({
    inputs: b.inputs.slice(s, s + n),
    targets: b.targets.slice(s, s + n),
    weights: b.weights.slice(s, s + n),
    batchSize: b.batchSize / 2,
    seqLen: b.seqLen,
  });
  return [part(0), part(n)];
}

describe('train step', () => {
  it('lowers the loss on a learnable batch and keeps the tensor count flat', () => {
    const m = tinyModel(2);
    const step = createTrainStep({ model: m, optimizer: new AdamW({ lr: 1e-2 }), transforms: [clipTransform(1)] });
    const batch = randomBatch(0, 4, 8, 23);
    const first = step(batch).loss;
    const counts: number[] = [];
    let last = first;
    for (let i = 0; i < 30; i++) {
      last = step(batch).loss;
      counts.push(tf.memory().numTensors);
    }
    expect(last).toBeLessThan(first * 0.5);
    expect(new Set(counts).size).toBe(1);
    m.dispose();
  });

  it('gradient accumulation over two halves equals one full batch', () => {
    const [a, b] = [tinyModel(4), tinyModel(4)];
    const full = createTrainStep({ model: a, optimizer: new AdamW({ lr: 1e-2 }), transforms: [] });
    const accum = createTrainStep({ model: b, optimizer: new AdamW({ lr: 1e-2 }), transforms: [] });
    const batch = randomBatch(1, 4, 8, 23);
    batch.weights[3] = 0; // unequal target counts per half: the mean must still be over all tokens
    const r1 = full(batch);
    const r2 = accum(halves(batch));
    expect(r2.loss).toBeCloseTo(r1.loss, 5);
    expect(r2.tokens).toBe(31);
    const va = a.valuesSync();
    for (const [path, data] of b.valuesSync()) {
      const ref = va.get(path)!;
      for (let i = 0; i < data.length; i++) expect(data[i]).toBeCloseTo(ref[i]!, 5);
    }
    a.dispose();
    b.dispose();
  });

  it('clip scales the update to max_norm and reports the norm', () => {
    const m = tinyModel(2);
    const step = createTrainStep({ model: m, optimizer: new AdamW({ lr: 1e-3 }), transforms: [clipTransform(1e-3)] });
    const r = step(randomBatch(0, 2, 8, 23));
    expect(r.stats['gradients/clip/norm']).toBeGreaterThan(1e-3);
    expect(r.stats['gradients/clip/clipped']).toBe(1);
    m.dispose();
  });
});
