import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { meanDifference, pcaOfDifferences } from '../../src/gradients/directions.ts';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import { ablateHook, hookWidth, steerHook } from '../../src/gradients/interventions.ts';
import { readoutDirection } from '../../src/gradients/directions.ts';
import { generate } from '../../src/models/generate.ts';
import { AdamW, createTrainStep, evaluate, train } from '../../src/trainer/index.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';
import { randomBatch, tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';
import { Rng } from '../../src/util/rng.ts';

beforeAll(useCpu);
const ctx = { name: 'h' };

describe('ablate and steer', () => {
  it('ablate removes the span: (1, 2, 3) minus its parts along x and (x+y) → (0, 0, 3)', () => {
    const { fn, q } = ablateHook([[2, 0, 0], [1, 1, 0]]); // Gram–Schmidt: span{x, y}
    const a = tf.tensor3d([[[1, 2, 3]]]);
    const out = fn(a, ctx);
    expect(Array.from(out.dataSync())).toEqual([expect.closeTo(0, 6), expect.closeTo(0, 6), expect.closeTo(3, 6)]);
    expect(out.shape).toEqual([1, 1, 3]);
    tf.dispose([q, a, out]);
  });

  it('steer adds coef times the unit direction', () => {
    const { fn, v } = steerHook([0, 3, 4], 10);
    const a = tf.tensor2d([[1, 1, 1]]);
    const out = fn(a, ctx);
    expect(Array.from(out.dataSync())).toEqual([1, expect.closeTo(7, 5), expect.closeTo(9, 5)]);
    tf.dispose([v, a, out]);
  });

  it('steer with positions adds only there, on residual and per-head hooks alike', () => {
    const { fn, v } = steerHook([0, 3, 4], 10, { positions: [1], nCtx: 4 });
    const a = tf.ones([2, 3, 3]); // [B, T, D]: T below n_ctx
    const out = fn(a, ctx).arraySync() as number[][][];
    for (const row of out) {
      expect(row[0]).toEqual([1, 1, 1]);
      expect(row[1]!.map((x) => +x.toFixed(5))).toEqual([1, 7, 9]);
      expect(row[2]).toEqual([1, 1, 1]);
    }
    const perHead = fn(tf.ones([1, 2, 2, 3]), ctx).arraySync() as number[][][][]; // [B, T, H, dh]
    expect(perHead[0]![1]!.map((h) => h.map((x) => +x.toFixed(5)))).toEqual([[1, 7, 9], [1, 7, 9]]);
    expect(perHead[0]![0]).toEqual([[1, 1, 1], [1, 1, 1]]);
    tf.dispose([v, a]);
  });

  it('the readout direction is the token columns of W_U minus the mean column', () => {
    const m = tinyModel(3);
    const W = m.params.get('unembed.W_U')!.arraySync() as number[][]; // [D, V]
    const dir = readoutDirection(m, [5]);
    const d = 2;
    const mean = W[d]!.reduce((a, b) => a + b, 0) / W[d]!.length;
    expect(dir[d]).toBeCloseTo(W[d]![5]! - mean, 5);
    expect(() => readoutDirection(m, [tinyConfig.vocabSize])).toThrow(/token id \d+ is outside the vocabulary/);
    m.dispose();
  });

  it('knows each hook width', () => {
    expect(hookWidth(tinyConfig, 'blocks.0.hook_resid_post')).toBe(16);
    expect(hookWidth(tinyConfig, 'blocks.0.mlp.hook_post')).toBe(tinyConfig.dMlp);
    expect(hookWidth(tinyConfig, 'blocks.0.attn.hook_z')).toBe(8);
  });
});

describe('interventions are training-time only', () => {
  it('the train step runs the hook; evaluation and generation do not', () => {
    const m = tinyModel(7);
    let calls = 0;
    const { fn, v } = steerHook(Array.from({ length: 16 }, (_, i) => i + 1), 5);
    const forward = { hooks: [{ at: 'blocks.0.hook_resid_post', fn: (a: tf.Tensor) => (calls++, fn(a, ctx)) }] };
    const opt = new AdamW({ lr: 1e-3 });
    createTrainStep({ model: m, optimizer: opt, transforms: [], forward })(randomBatch(1, 2, 8, tinyConfig.vocabSize));
    expect(calls).toBe(1);
    const batch = randomBatch(2, 2, 8, tinyConfig.vocabSize);
    const e = evaluate(m, [batch]);
    generate(m, [[1, 2]], { maxNewTokens: 3, temperature: 0, rng: new Rng(1) });
    expect(calls).toBe(1);
    // The same batch through the steered forward gives another loss: the hook is real.
    const steered = tf.tidy(() => m.forward(tf.tensor2d(batch.inputs, [2, 8], 'int32'), forward).logits.sum().dataSync()[0]);
    const plain = tf.tidy(() => m.forward(tf.tensor2d(batch.inputs, [2, 8], 'int32')).logits.sum().dataSync()[0]);
    expect(steered).not.toBeCloseTo(plain!, 3);
    expect(Number.isFinite(e.loss)).toBe(true);
    tf.dispose(v);
    opt.dispose();
    m.dispose();
  });

  it('a recipe ablation runs in training; a width mismatch names both widths', async () => {
    const dir = tempDir();
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    saveDirections(good, { format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.0.hook_resid_post', width: 16, vectors: [Array.from({ length: 16 }, (_, i) => (i === 3 ? 1 : 0))] });
    saveDirections(bad, { format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.0.mlp.hook_post', width: 64, vectors: [Array.from({ length: 64 }, () => 1)] });
    const tracker = new MemoryTracker();
    const r = await train(tinyRecipe(dir, { steps: 2, extra: `interventions: [ { kind: ablate, hook: blocks.0.hook_resid_post, directions: ${good} } ]` }), { tracker });
    expect(r.step).toBe(2);
    // Refused when the recipe loads (validation reads the hook's width from the config), before any tensor.
    expect(() => tinyRecipe(tempDir(), { steps: 2, extra: `interventions: [ { kind: steer, hook: blocks.0.hook_resid_post, directions: ${bad}, coef: 2 } ]` })).toThrow(
      /interventions\.0\.directions: .* width 64 .*but hook blocks\.0\.hook_resid_post has width 16/,
    );
  });
});

describe('finding directions', () => {
  it('mean difference: unit vector along the gap, perfect separation for split clusters', () => {
    const A = [Float32Array.from([2, 0]), Float32Array.from([2, 1])];
    const B = [Float32Array.from([0, 0]), Float32Array.from([0, 1])];
    const { vector, stats } = meanDifference(A, B);
    expect(vector).toEqual([expect.closeTo(1, 9), expect.closeTo(0, 9)]);
    expect(stats.accuracy).toBe(1);
    expect(stats.mean_diff_norm).toBeCloseTo(2, 9);
  });

  it('PCA of differences finds the axis the second model moved along', () => {
    const before = [[0, 0, 0], [1, 1, 1], [2, 0, 1], [0, 3, 1]].map((r) => Float32Array.from(r));
    const shift = [1, -2, 3, 0.5];
    const after = before.map((r, n) => Float32Array.from(r, (x, i) => x + (i === 1 ? shift[n]! : 0)));
    const { vectors, explained } = pcaOfDifferences(before, after, 2);
    expect(vectors).toHaveLength(1); // one non-trivial axis
    expect(Math.abs(vectors[0]![1]!)).toBeCloseTo(1, 5);
    expect(explained[0]).toBeCloseTo(1, 5);
  });
});
