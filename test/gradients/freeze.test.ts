import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Freezer } from '../../src/gradients/freeze.ts';
import { attributionScores, selectTopPercent } from '../../src/gradients/attribution.ts';
import { selectGlob, selectHeads, selectNeurons, unionSelections } from '../../src/gradients/select.ts';
import { AdamW, createTrainStep, lmLoss } from '../../src/trainer/index.ts';
import { randomBatch, tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('freeze selectors', () => {
  it('slices heads: W_Q/W_K/W_V columns and bias entries, W_O rows (D=16, H=2, dh=8)', () => {
    const m = tinyModel();
    const sel = selectHeads(m.params, 'blocks.1.attn[1]', tinyConfig.nHeads);
    const q = sel.get('blocks.1.attn.W_Q')!; // [16, 16]
    expect(q[0 * 16 + 7]).toBe(0);
    expect(q[0 * 16 + 8]).toBe(1);
    expect(q[15 * 16 + 15]).toBe(1);
    expect(sel.get('blocks.1.attn.b_V')!.join('')).toBe('0000000011111111');
    const o = sel.get('blocks.1.attn.W_O')!;
    expect(o[7 * 16 + 3]).toBe(0); // row 7 belongs to head 0
    expect(o[8 * 16 + 3]).toBe(1);
    expect(sel.has('blocks.1.attn.b_O')).toBe(false); // shared by all heads
    m.dispose();
  });

  it('slices neurons: W_in column n, b_in[n], W_out row n', () => {
    const m = tinyModel();
    const sel = selectNeurons(m.params, 'blocks.0.mlp[2, 5]');
    const M = tinyConfig.dMlp;
    const win = sel.get('blocks.0.mlp.W_in')!;
    expect([win[3 * M + 2], win[3 * M + 5], win[3 * M + 4]]).toEqual([1, 1, 0]);
    expect(sel.get('blocks.0.mlp.W_out')!.slice(5 * 16, 6 * 16).every((f) => f === 1)).toBe(true);
    expect(sel.get('blocks.0.mlp.W_out')!.slice(4 * 16, 5 * 16).every((f) => f === 0)).toBe(true);
    m.dispose();
  });

  it('a selector that matches nothing is an error naming it', () => {
    const m = tinyModel();
    expect(() => selectGlob(m.params, 'blocks.9.*')).toThrow(/"blocks\.9\.\*" matches no parameter/);
    expect(() => selectHeads(m.params, 'blocks.1.attn[2]', 2)).toThrow(/head 2 .* 2 heads/);
    expect(() => selectNeurons(m.params, 'blocks.4.mlp[0]')).toThrow(/no parameter blocks\.4\.mlp\.W_in/);
    m.dispose();
  });
});

describe('Freezer under AdamW with weight decay', () => {
  it('keeps frozen entries bit-identical while the rest trains, with no tensor leak', () => {
    const m = tinyModel(2);
    const sel = unionSelections([
      selectGlob(m.params, 'blocks.0.attn.*'),
      selectHeads(m.params, 'blocks.1.attn[0]', tinyConfig.nHeads),
      selectNeurons(m.params, 'blocks.1.mlp[1,3]'),
    ]);
    const freezer = new Freezer(m.params, sel);
    const opt = new AdamW({ lr: 0.05, weightDecay: 0.5 });
    freezer.install(opt); // one call: the gradient mask and AdamW's mask
    const before = m.valuesSync();
    const step = createTrainStep({ model: m, optimizer: opt, transforms: [] });
    step(randomBatch(1, 4, 8, tinyConfig.vocabSize));
    const n0 = tf.memory().numTensors;
    for (let i = 2; i <= 5; i++) step(randomBatch(i, 4, 8, tinyConfig.vocabSize));
    expect(tf.memory().numTensors).toBe(n0);
    expect(freezer.verify(m.params)).toEqual({ ok: true, changed: {} });
    const after = m.valuesSync();
    // Unfrozen entries of a partly frozen tensor did move (the mask is not everything).
    const wq = sel.get('blocks.1.attn.W_Q')!;
    const moved = after.get('blocks.1.attn.W_Q')!.some((v, i) => !wq[i] && v !== before.get('blocks.1.attn.W_Q')![i]);
    expect(moved).toBe(true);
    expect(freezer.counts.byPath['blocks.1.mlp.W_out']).toEqual({ frozen: 2 * 16, of: tinyConfig.dMlp * 16 });
    // Without the optimizer mask, weight decay alone moves "frozen" entries: the mask is needed.
    const bare = new AdamW({ lr: 0.05, weightDecay: 0.5 });
    createTrainStep({ model: m, optimizer: bare, transforms: [freezer.transform()] })(randomBatch(9, 4, 8, tinyConfig.vocabSize));
    expect(freezer.verify(m.params).ok).toBe(false);
    opt.dispose();
    bare.dispose();
    freezer.dispose();
    m.dispose();
  });

  it('attribution picks the top percent by |grad × weight|, one threshold across tensors', () => {
    const scores = new Map([['a', Float32Array.from([1, 9, 3, 7])], ['b', Float32Array.from([8, 2, 6, 5])]]);
    const sel = selectTopPercent(scores, 25); // 2 of 8: 9 and 8
    expect([...sel.get('a')!]).toEqual([0, 1, 0, 0]);
    expect([...sel.get('b')!]).toEqual([1, 0, 0, 0]);
    const m = tinyModel(3);
    const n0 = tf.memory().numTensors;
    const s = attributionScores(m.params, [randomBatch(4, 2, 8, tinyConfig.vocabSize)], (b) => lmLoss(m, b), (p) => p === 'blocks.0.mlp.W_in');
    expect(tf.memory().numTensors).toBe(n0);
    const w = s.get('blocks.0.mlp.W_in')!;
    expect(w.length).toBe(16 * tinyConfig.dMlp);
    expect(w.every((x) => x >= 0) && w.some((x) => x > 0)).toBe(true);
    m.dispose();
  });

  it('fisher scores are the summed squared gradients; per-example |g × w| sums bound the batch score', () => {
    const m = tinyModel(4);
    const path = 'blocks.1.attn.W_K';
    const only = (p: string) => p === path;
    const batch = randomBatch(7, 2, 8, tinyConfig.vocabSize);
    const half = (b: number) => ({ ...batch, batchSize: 1, inputs: batch.inputs.slice(b * 8, b * 8 + 8), targets: batch.targets.slice(b * 8, b * 8 + 8), weights: batch.weights.slice(b * 8, b * 8 + 8) });
    const { value, grads } = tf.variableGrads(() => lmLoss(m, batch), [m.params.get(path)!]);
    const g = grads[m.params.get(path)!.name]!.dataSync() as Float32Array;
    tf.dispose([value, ...Object.values(grads)]);
    const fisher = attributionScores(m.params, [batch], (b) => lmLoss(m, b), only, 'fisher').get(path)!;
    fisher.forEach((x, i) => expect(x).toBeCloseTo(g[i]! ** 2, 10));
    // The batch loss is the mean of the two examples' losses, so its gradient is (g₁ + g₂)/2 and
    // |g₁w| + |g₂w| ≥ 2·|(g₁ + g₂)/2 · w|: summing per example never cancels, the batch can.
    const perBatch = attributionScores(m.params, [batch], (b) => lmLoss(m, b), only).get(path)!;
    const perExample = attributionScores(m.params, [half(0), half(1)], (b) => lmLoss(m, b), only).get(path)!;
    let strictly = 0;
    perBatch.forEach((x, i) => {
      expect(perExample[i]!).toBeGreaterThanOrEqual(2 * x - 1e-6);
      if (perExample[i]! > 2 * x + 1e-6) strictly++;
    });
    expect(strictly).toBeGreaterThan(0); // the two examples' gradients disagree somewhere
    m.dispose();
  });
});
