import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipTransform, Freezer, selectGlob, selectHeads, unionSelections } from '../../src/index.ts';
import { AdamW, applyGradients, computeGradients, lmLoss } from '../../src/index.ts';
import { randomBatch, tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const V = tinyConfig.vocabSize;

describe('computeGradients (public seam)', () => {
  it('gives the loss and, by parameter path, what tf.variableGrads gives each variable (and finite differences agree)', () => {
    const m = tinyModel(7);
    const b = randomBatch(3, 2, 8, V);
    const n0 = tf.memory().numTensors;
    const { loss, grads } = computeGradients(m, () => lmLoss(m, b));
    expect(Object.keys(grads).sort()).toEqual([...m.params.keys()].sort());
    const paths = [...m.params.keys()];
    const vars = paths.map((p) => m.params.get(p)!);
    const direct = tf.variableGrads(() => lmLoss(m, b), vars);
    expect(loss).toBeCloseTo(direct.value.dataSync()[0]!, 6);
    for (const [i, p] of paths.entries()) {
      expect(Array.from(grads[p]!.dataSync()), p).toEqual(Array.from(direct.grads[vars[i]!.name]!.dataSync()));
    }
    // And an independent route for the path mapping: central differences on the largest entry of three tensors.
    const lossAt = () => tf.tidy(() => lmLoss(m, b).dataSync()[0]!);
    for (const p of ['blocks.0.mlp.W_in', 'blocks.1.mlp.W_out', 'unembed.W_U']) {
      const v = m.params.get(p)!;
      const gs = Array.from(grads[p]!.dataSync(), Math.abs);
      const i = gs.indexOf(Math.max(...gs));
      const x = v.dataSync().slice() as Float32Array;
      const h = 1e-2;
      const at = (d: number) => (tf.tidy(() => v.assign(tf.tensor(Float32Array.from(x, (y, j) => (j === i ? y + d : y)), v.shape))), lossAt());
      const fd = (at(h) - at(-h)) / (2 * h);
      tf.tidy(() => v.assign(tf.tensor(x, v.shape)));
      const g = grads[p]!.dataSync()[i]!;
      expect(Math.abs(fd), p).toBeGreaterThan(1e-3); // a gradient worth comparing
      expect(Math.abs(g - fd), `${p}: ${g} vs ${fd}`).toBeLessThan(0.05 * Math.abs(fd));
    }
    tf.dispose([direct.value, ...Object.values(direct.grads), ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });

  it('refuses a frozen copy', () => {
    const m = tinyModel(1);
    const f = m.frozenCopy();
    expect(() => computeGradients(f, () => lmLoss(f, randomBatch(1, 1, 8, V)))).toThrow(/frozen copy/);
    f.dispose();
    m.dispose();
  });
});

describe('applyGradients (public seam)', () => {
  it('skips a non-finite update: nothing moves, not the optimizer step either, and the tensors are named', () => {
    const m = tinyModel(5);
    const opt = new AdamW({ lr: 0.01, weightDecay: 0.1 });
    const before = m.valuesSync();
    const { loss, grads } = computeGradients(m, () => lmLoss(m, randomBatch(2, 2, 8, V)));
    const g = grads['blocks.0.mlp.W_in']!;
    grads['blocks.0.mlp.W_in'] = tf.mul(g, Infinity);
    g.dispose();
    const n0 = tf.memory().numTensors;
    const r = applyGradients(m, grads, { optimizer: opt, transforms: [clipTransform(1)], loss });
    expect(r.nonFinite).toEqual(['blocks.0.mlp.W_in']);
    expect(opt.t).toBe(0);
    expect(tf.memory().numTensors).toBe(n0 - Object.keys(grads).length); // the gradients were consumed
    for (const [p, v] of m.valuesSync()) expect(Array.from(v), p).toEqual(Array.from(before.get(p)!));
    // A NaN loss with finite gradients is skipped too.
    const ok = computeGradients(m, () => lmLoss(m, randomBatch(2, 2, 8, V)));
    expect(applyGradients(m, ok.grads, { optimizer: opt, loss: NaN }).nonFinite).toEqual(['(loss)']);
    expect(opt.t).toBe(0);
    opt.dispose();
    m.dispose();
  });

  it('runs the transforms in order, then AdamW, and reports their stats; tensors flat across steps', () => {
    const m = tinyModel(6);
    const opt = new AdamW({ lr: 0.01 });
    const counts: number[] = [];
    let r: ReturnType<typeof applyGradients> | undefined;
    for (let i = 0; i < 4; i++) {
      const b = randomBatch(10 + i, 2, 8, V);
      const { loss, grads } = computeGradients(m, () => lmLoss(m, b));
      r = applyGradients(m, grads, { optimizer: opt, transforms: [clipTransform(1e-3, 'tiny_clip')], loss });
      counts.push(tf.memory().numTensors);
    }
    expect(opt.t).toBe(4);
    expect(r!.stats['gradients/tiny_clip/clipped']).toBe(1);
    expect(r!.stats['gradients/tiny_clip/norm']).toBeGreaterThan(1e-3);
    expect(new Set(counts.slice(1)).size).toBe(1);
    opt.dispose();
    m.dispose();
  });

  it('Freezer.install wires both masks: frozen entries bit-identical, their optimizer state untouched', () => {
    const m = tinyModel(2);
    const sel = unionSelections([selectGlob(m.params, 'blocks.0.attn.*'), selectHeads(m.params, 'blocks.1.attn[0]', tinyConfig.nHeads)]);
    const freezer = new Freezer(m.params, sel).install(new AdamW({ lr: 0 })); // re-installing elsewhere is harmless
    const opt = new AdamW({ lr: 0.05, weightDecay: 0.5 });
    freezer.install(opt);
    const before = m.valuesSync();
    let stats: Record<string, number> = {};
    for (let i = 0; i < 3; i++) {
      const b = randomBatch(20 + i, 2, 8, V);
      const { loss, grads } = computeGradients(m, () => lmLoss(m, b));
      stats = applyGradients(m, grads, { optimizer: opt, transforms: [clipTransform(1)], loss }).stats;
    }
    expect(freezer.verify(m.params)).toEqual({ ok: true, changed: {} });
    // The gradient mask ran before clip: its stats are there, under the freeze stage's name.
    expect(stats['gradients/freeze/frozen_entries']).toBe(freezer.counts.total);
    const state = opt.stateSync().tensors;
    // Fully frozen tensors never get moments; partly frozen ones keep zeros at frozen entries.
    expect(state.has('m.blocks.0.attn.W_Q')).toBe(false);
    const flags = sel.get('blocks.1.attn.W_Q')!;
    const mq = state.get('m.blocks.1.attn.W_Q')!.data;
    const vq = state.get('v.blocks.1.attn.W_Q')!.data;
    expect(flags.some((f) => f === 1) && flags.some((f) => f === 0)).toBe(true);
    flags.forEach((f, i) => {
      if (f) expect([mq[i], vq[i]]).toEqual([0, 0]);
    });
    expect(mq.some((x, i) => !flags[i] && x !== 0)).toBe(true);
    // The rest trained.
    const after = m.valuesSync();
    expect(after.get('blocks.1.mlp.W_in')).not.toEqual(before.get('blocks.1.mlp.W_in'));
    freezer.dispose();
    opt.dispose();
    m.dispose();
  });
});
