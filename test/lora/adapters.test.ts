import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoraAdapters, initialAdapters } from '../../src/lora/adapters.ts';
import { adaptersOf, attachLora, detachLora, frozenReference, trainableParams } from '../../src/lora/attach.ts';
import { loraScale } from '../../src/lora/settings.ts';
import { AdamW } from '../../src/trainer/optimizer.ts';
import { applyGradients, computeGradients } from '../../src/trainer/seam.ts';
import { createTrainStep } from '../../src/trainer/seam.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { Freezer } from '../../src/gradients/freeze.ts';
import { selectGlob } from '../../src/gradients/select.ts';
import { ids2d, randomBatch, tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const TARGETS = ['blocks.0.attn.W_Q', 'blocks.0.attn.W_V', 'blocks.1.mlp.W_out', 'unembed.W_U'];

function withAdapters(seed = 3, r = 4, alpha = 8, dropout = 0) {
  const model = tinyModel(seed);
  const shapes = new Map(TARGETS.map((p) => [p, model.params.get(p)!.shape]));
  const adapters = new LoraAdapters(shapes, initialAdapters(shapes, r, loraScale(alpha, r, false), seed), dropout, seed);
  attachLora(model, adapters);
  return { model, adapters };
}

const logitsOf = (m: { forward(ids: tf.Tensor2D): { logits: tf.Tensor } }, rows: number[][]) => {
  const ids = ids2d(rows);
  const { logits } = m.forward(ids);
  const out = logits.dataSync().slice();
  tf.dispose([ids, logits]);
  return out;
};

describe('LoRA adapters', () => {
  it('start as PEFT does: A uniform within ±1/√in, B zero, so the model is exactly its base', () => {
    const { model, adapters } = withAdapters();
    const A = adapters.params.get('blocks.0.attn.W_Q.lora_A')!;
    expect(A.shape).toEqual([4, tinyConfig.dModel]);
    const a = A.dataSync();
    const bound = 1 / Math.sqrt(tinyConfig.dModel);
    expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(a, Math.abs))).toBeGreaterThan(0.8 * bound); // spread over the range, not a tiny normal
    expect(adapters.params.get('unembed.W_U.lora_B')!.shape).toEqual([tinyConfig.vocabSize, 4]);
    expect(Array.from(adapters.params.get('unembed.W_U.lora_B')!.dataSync()).every((v) => v === 0)).toBe(true);
    const rows = [[1, 2, 3, 4]];
    const adapted = logitsOf(model, rows);
    detachLora(model);
    expect(adapted).toEqual(logitsOf(model, rows));
    model.dispose();
    adapters.dispose();
  });

  it('read W + (alpha/r)·(B·A)ᵀ, or alpha/√r with rslora', () => {
    for (const rslora of [false, true]) {
      const model = tinyModel(4);
      const path = 'blocks.0.mlp.W_in';
      const [inDim, outDim] = model.params.get(path)!.shape as [number, number];
      const r = 4;
      const scale = loraScale(8, r, rslora);
      expect(scale).toBe(rslora ? 4 : 2);
      const A = Float32Array.from({ length: r * inDim }, (_, i) => Math.sin(i));
      const B = Float32Array.from({ length: outDim * r }, (_, i) => Math.cos(i));
      const adapters = new LoraAdapters(new Map([[path, [inDim, outDim]]]), new Map([[path, { r, scale, A, B }]]), 0, 1);
      const w = model.params.get(path)!;
      const got = tf.tidy(() => adapters.transform(path, w).dataSync());
      const base = w.dataSync();
      for (const [i, o] of [[0, 0], [3, 17], [inDim - 1, outDim - 1]] as const) {
        let s = 0;
        for (let j = 0; j < r; j++) s += B[o * r + j]! * A[j * inDim + i]!; // (B·A)[o, i]
        expect(got[i * outDim + o]).toBeCloseTo(base[i * outDim + o]! + scale * s, 4);
      }
      expect(adapters.transform('blocks.0.mlp.W_out', model.params.get('blocks.0.mlp.W_out')!)).toBe(model.params.get('blocks.0.mlp.W_out')); // untargeted: the variable itself
      model.dispose();
      adapters.dispose();
    }
  });

  it('train only the adapters: the base stays bit-identical, the loss falls, and no tensor leaks across steps', () => {
    const { model, adapters } = withAdapters(5);
    const before = model.valuesSync();
    const fp = model.fingerprint();
    expect([...trainableParams(model).keys()].sort()).toEqual(TARGETS.flatMap((p) => [`${p}.lora_A`, `${p}.lora_B`]).sort());
    const optimizer = new AdamW({ lr: 1e-2, weightDecay: 0.1 });
    const step = createTrainStep({ model, optimizer, transforms: [] });
    const batch = randomBatch(1, 4, 8, tinyConfig.vocabSize);
    const losses: number[] = [];
    losses.push(step(batch).loss);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 15; i++) losses.push(step(batch).loss);
    expect(tf.memory().numTensors).toBe(n0);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.05);
    const after = model.valuesSync();
    for (const [path, v] of before) expect(Buffer.from(after.get(path)!.buffer).equals(Buffer.from(v.buffer)), path).toBe(true);
    expect(model.fingerprint()).toBe(fp);
    expect(Array.from(adapters.params.get('blocks.0.attn.W_Q.lora_B')!.dataSync()).some((v) => v !== 0)).toBe(true);
    // The optimizer never got a base weight, and would refuse one: attachLora made them untrainable.
    const { grads } = computeGradients(model, () => lmLoss(model, batch));
    expect(Object.keys(grads).every((k) => k.includes('.lora_'))).toBe(true);
    tf.dispose(Object.values(grads));
    const g = { 'blocks.0.attn.W_K': tf.onesLike(model.params.get('blocks.0.attn.W_K')!) };
    expect(() => optimizer.apply(model.params, g)).toThrow(/not trainable/);
    tf.dispose(Object.values(g));
    optimizer.dispose();
    model.dispose();
    adapters.dispose();
  });

  it('freeze globs select adapters: a frozen adapter keeps its values exactly', () => {
    const { model, adapters } = withAdapters(6);
    const optimizer = new AdamW({ lr: 1e-2 });
    const freezer = new Freezer(trainableParams(model), selectGlob(trainableParams(model), 'blocks.0.attn.W_Q.lora_*', 'freeze[0]'));
    freezer.install(optimizer);
    const before = adapters.params.get('blocks.0.attn.W_Q.lora_A')!.dataSync().slice();
    const step = createTrainStep({ model, optimizer, transforms: [] });
    for (let i = 0; i < 3; i++) step(randomBatch(i, 2, 8, tinyConfig.vocabSize));
    expect(Array.from(adapters.params.get('blocks.0.attn.W_Q.lora_A')!.dataSync())).toEqual(Array.from(before));
    expect(Array.from(adapters.params.get('blocks.0.attn.W_V.lora_B')!.dataSync()).some((v) => v !== 0)).toBe(true);
    freezer.dispose();
    optimizer.dispose();
    model.dispose();
    adapters.dispose();
  });

  it("give RL's frozen reference as the base with adapters off: no second copy, the base's fingerprint, untrainable", () => {
    const { model, adapters } = withAdapters(7);
    const baseFp = model.fingerprint();
    const optimizer = new AdamW({ lr: 5e-2 });
    const step = createTrainStep({ model, optimizer, transforms: [] });
    for (let i = 0; i < 4; i++) step(randomBatch(i, 2, 8, tinyConfig.vocabSize));
    const n0 = tf.memory().numTensors;
    const ref = frozenReference(model);
    expect(tf.memory().numTensors).toBe(n0); // no weights copied
    expect(ref.frozen).toBe(true);
    expect(ref.fingerprint()).toBe(baseFp);
    expect(ref.params.get('embed.W_E')).toBe(model.params.get('embed.W_E'));
    const rows = [[3, 1, 4, 1, 5]];
    const refLogits = logitsOf(ref, rows);
    const policyLogits = logitsOf(model, rows);
    expect(refLogits).not.toEqual(policyLogits); // the policy moved
    expect(adaptersOf(model)!.enabled).toBe(true);
    detachLora(model);
    expect(refLogits).toEqual(logitsOf(model, rows)); // the reference is exactly the base
    expect(() => computeGradients(ref, () => tf.scalar(0))).toThrow(/frozen/);
    ref.dispose(); // frees nothing: the model still works
    expect(logitsOf(model, rows).length).toBe(rows[0]!.length * tinyConfig.vocabSize);
    optimizer.dispose();
    model.dispose();
    adapters.dispose();
  });

  it('apply dropout in training passes only, on the adapter input, with the same expectation', () => {
    const { model, adapters } = withAdapters(8, 4, 8, 0.5);
    // Make the adapters non-trivial, then compare an eval forward before and after a training pass.
    tf.tidy(() => adapters.params.get('blocks.0.attn.W_Q.lora_B')!.assign(tf.randomNormal([tinyConfig.dModel, 4], 0, 0.5, 'float32', 1)));
    const rows = [[1, 2, 3]];
    const a = logitsOf(model, rows);
    const b = logitsOf(model, rows);
    expect(a).toEqual(b); // eval: no dropout, deterministic
    const batch = randomBatch(2, 2, 8, tinyConfig.vocabSize);
    const l1 = computeGradients(model, () => lmLoss(model, batch));
    const l2 = computeGradients(model, () => lmLoss(model, batch));
    expect(l1.loss).not.toBe(l2.loss); // fresh masks each training pass
    tf.dispose([...Object.values(l1.grads), ...Object.values(l2.grads)]);
    expect(adapters.training).toBe(false);
    model.dispose();
    adapters.dispose();
  });

  it('run gradient transforms on the adapters\' gradients (applyGradients passes the adapter params)', () => {
    const { model, adapters } = withAdapters(9);
    const optimizer = new AdamW({ lr: 1e-2 });
    const seen: string[] = [];
    const spy = { name: 'spy', apply: (grads: Record<string, tf.Tensor>, ctx: { params: ReadonlyMap<string, tf.Variable> }) => {
      seen.push(...Object.keys(grads).filter((k) => ctx.params.has(k)));
      return { grads, stats: {} };
    } };
    const { grads, loss } = computeGradients(model, () => lmLoss(model, randomBatch(3, 2, 8, tinyConfig.vocabSize)));
    applyGradients(model, grads, { optimizer, transforms: [spy as never], loss });
    expect(seen.sort()).toEqual([...adapters.params.keys()].sort());
    optimizer.dispose();
    model.dispose();
    adapters.dispose();
  });
});
