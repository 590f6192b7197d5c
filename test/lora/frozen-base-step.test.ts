import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { useBlas } from '../../src/backend/blas.ts';
import { takeProductCounts } from '../../src/backend/blas-kernels.ts';
import { findBlas } from '../../src/backend/blas-library.ts';
import { trainableParams } from '../../src/lora/attach.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { AdamW } from '../../src/trainer/optimizer.ts';
import { computeGradients, createTrainStep } from '../../src/trainer/seam.ts';
import { expectClose, withNonzeroAdapters } from '../helpers/compare.ts';
import { randomBatch, tinyFamilyModel, useCpu } from '../helpers/tiny.ts';

/**
 * A whole LoRA training step on a GQA Llama (the factored layer, the freeing backward, the frozen
 * head's vocabulary end, AdamW on the adapters): tfjs-cpu as the reference, then wasm with its
 * products on the platform's BLAS and on XNNPACK. Each path keeps its tensor count flat across
 * steps and gives cpu's losses and adapters; no product of the step has a frozen weight's shape.
 */

afterAll(async () => {
  useBlas(true);
  await useCpu();
});

const ALL_LINEAR = ['attn.W_Q', 'attn.W_K', 'attn.W_V', 'attn.W_O', 'mlp.W_gate', 'mlp.W_in', 'mlp.W_out'];
// B·T = 21 rows and chunks of 5: no product's output can have a weight's shape by coincidence.
const [B, T, STEPS, CHUNK] = [3, 7, 3, 5];

function build(seed = 4) {
  const model = tinyFamilyModel(seed);
  const targets = [0, 1].flatMap((l) => ALL_LINEAR.map((p) => `blocks.${l}.${p}`)).filter((p) => model.params.has(p));
  const adapters = withNonzeroAdapters(model, targets);
  return { model, adapters, targets };
}

/** STEPS AdamW steps; the losses, the adapters after them and the tensor count after each step. */
function train() {
  const { model, adapters } = build();
  const optimizer = new AdamW({ lr: 1e-3, weightDecay: 0 });
  const step = createTrainStep({ model, optimizer, transforms: [], ceChunk: CHUNK });
  const losses: number[] = [];
  const counts: number[] = [];
  const batch = randomBatch(10, B, T, model.config.vocabSize);
  for (let s = 0; s < STEPS; s++) {
    losses.push(step(batch, undefined, false).loss);
    counts.push(tf.memory().numTensors);
  }
  const weights = Object.fromEntries([...trainableParams(model)].map(([k, v]) => [k, Array.from(v.dataSync())]));
  optimizer.dispose();
  adapters.dispose();
  model.dispose();
  return { losses, weights, counts };
}

/** Output shapes of every matrix product in one gradient computation. */
async function productShapes(run: () => void): Promise<string[]> {
  const p = await tf.profile(run);
  return p.kernels.filter((k) => /MatMul/.test(k.name)).map((k) => k.outputShapes[0]!.join('×'));
}

describe('a LoRA step over a frozen base', () => {
  it('takes no gradient for a frozen weight: only the adapters get one, and no product has a frozen weight’s shape', async () => {
    await useCpu();
    const { model, adapters, targets } = build();
    const batch = randomBatch(3, B, T, model.config.vocabSize);
    const frozen = [...model.params].filter(([, v]) => !v.trainable && v.rank === 2);
    expect(frozen.length).toBeGreaterThan(targets.length); // every block weight, the embedding and the head
    const frozenShapes = new Set(frozen.map(([, v]) => v.shape.join('×')));
    const shapesOf = () => productShapes(() => {
      const { grads } = computeGradients(model, () => lmLoss(model, batch, { ceChunk: CHUNK }));
      expect(Object.keys(grads).sort()).toEqual([...trainableParams(model).keys()].sort());
      tf.dispose(Object.values(grads));
    });
    const factored = await shapesOf();
    expect(factored.filter((s) => frozenShapes.has(s))).toEqual([]);
    // The test can see one: the merged path (W + ΔW read through the weight transform,
    // differentiated through the head) forms the adapted weights and their gradients.
    const linear = model.linearTransform;
    model.linearTransform = undefined;
    Object.defineProperty(model, 'outputHead', { value: () => undefined, configurable: true });
    const merged = await shapesOf();
    model.linearTransform = linear;
    delete (model as { outputHead?: unknown }).outputHead;
    expect(merged.filter((s) => frozenShapes.has(s)).length).toBeGreaterThanOrEqual(2 * targets.length);
    adapters.dispose();
    model.dispose();
  });

  const found = findBlas().library !== undefined;
  const paths = [['blas', found], ['xnnpack', true]] as const;
  let cpu: ReturnType<typeof train>;

  it('on cpu: the loss falls and the tensor count is flat from the second step on', async () => {
    await useCpu();
    cpu = train();
    expect(cpu.counts.slice(1)).toEqual(cpu.counts.slice(1).map(() => cpu.counts[1]));
    expect(cpu.losses[STEPS - 1]).toBeLessThan(cpu.losses[0]!);
  });

  for (const [path, available] of paths) {
    it.runIf(available)(`on wasm with products on ${path}: cpu's losses and adapters, the tensor count flat`, async () => {
      await initBackend('wasm');
      expect(useBlas(path === 'blas')).toBe(path === 'blas');
      takeProductCounts();
      const got = train();
      const counts = takeProductCounts();
      if (path === 'blas') expect(counts.blas).toBeGreaterThan(0);
      else expect(counts).toEqual({ blas: 0, xnnpack: expect.any(Number) });
      expect(got.counts.slice(1)).toEqual(got.counts.slice(1).map(() => got.counts[1]));
      expectClose(got.losses, cpu.losses, 1e-5, 'losses');
      for (const k of Object.keys(cpu.weights)) expectClose(got.weights[k]!, cpu.weights[k]!, 1e-4, k);
    });
  }
});
