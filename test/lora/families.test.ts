import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainableParams } from '../../src/lora/attach.ts';
import { familyConfigFromRecipe } from '../../src/models/families/config.ts';
import { FAMILIES } from '../../src/models/families/index.ts';
import type { DecoderConfig } from '../../src/models/families/family.ts';
import { createModel } from '../../src/models/registry.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { computeGradients } from '../../src/trainer/seam.ts';
import { expectClose, lossAndGradsOf, withNonzeroAdapters } from '../helpers/compare.ts';
import { randomBatch, useCpu } from '../helpers/tiny.ts';

/**
 * LoRA's fast path on every registered family: each projection goes through the factored layer
 * (the model's linear seam), the gradient through the freeing backward, and the frozen head
 * through the vocabulary end, or, for soft-capped logits (Gemma 2), through `unembed` with the
 * head's product still frozen. Each gives what the merged weights W + ΔW give when
 * differentiated through the whole head, with no product of a frozen weight's shape.
 */

beforeAll(useCpu);
afterAll(useCpu);

const LINEAR = ['attn.W_Q', 'attn.W_K', 'attn.W_V', 'attn.W_O', 'mlp.W_gate', 'mlp.W_in', 'mlp.W_out'];
const [B, T, CHUNK] = [3, 7, 5]; // 21 rows in chunks of 5: no product's output has a weight's shape by chance

function tinyConfig(family: (typeof FAMILIES)[number]): DecoderConfig {
  const reads = (k: string) => family.recipeFields.includes(k as never);
  const c = familyConfigFromRecipe({
    family: family.name, vocab_size: 23, d_model: 16, n_layers: 2, n_heads: 4, d_mlp: 24, n_ctx: 8, tied_embeddings: true, layer_norm_eps: 1e-6, init_std: 0.3,
    ...(reads('n_kv_heads') ? { n_kv_heads: 2 } : {}),
    ...(reads('sliding_window') ? { sliding_window: 4 } : {}),
  });
  // A cap the logits reach, so that skipping it would change the loss (Gemma 2's default is 30).
  return c.finalSoftcap === undefined ? c : { ...c, finalSoftcap: 0.5 };
}

describe.each(FAMILIES.map((f) => [f.name, f] as const))('%s under LoRA', (name, family) => {
  it('the factored layers, the freeing backward and the frozen head give the merged weights’ loss and adapter gradients, the tensor count flat, no frozen weight’s gradient', async () => {
    const config = tinyConfig(family);
    const model = createModel(config, 7);
    const targets = [0, 1].flatMap((l) => LINEAR.map((p) => `blocks.${l}.${p}`)).filter((p) => model.params.has(p));
    expect(targets.length).toBeGreaterThanOrEqual(8);
    const adapters = withNonzeroAdapters(model, targets);
    const batch = randomBatch(2, B, T, config.vocabSize);
    // The loss's vocabulary end reads outputHead(): a plain product only, so not Gemma 2's capped logits.
    expect(model.outputHead?.() === undefined).toBe(config.finalSoftcap !== undefined);

    const run = () => lossAndGradsOf(model, () => lmLoss(model, batch, { ceChunk: CHUNK }));
    const fast = run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);

    const frozen = [...model.params].filter(([, v]) => !v.trainable && v.rank === 2);
    const frozenShapes = new Set(frozen.flatMap(([, v]) => [v.shape.join('×'), [...v.shape].reverse().join('×')]));
    const products = async () => {
      const p = await tf.profile(() => {
        const { grads } = computeGradients(model, () => lmLoss(model, batch, { ceChunk: CHUNK }));
        expect(Object.keys(grads).sort()).toEqual([...trainableParams(model).keys()].sort());
        tf.dispose(Object.values(grads));
      });
      return p.kernels.filter((k) => /MatMul/.test(k.name)).map((k) => k.outputShapes[0]!.join('×')).filter((s) => frozenShapes.has(s));
    };
    expect(await products()).toEqual([]);

    // The reference: W + ΔW read through the weight transform, differentiated through the head.
    const linear = model.linearTransform;
    model.linearTransform = undefined;
    Object.defineProperty(model, 'outputHead', { value: () => undefined, configurable: true });
    const merged = run();
    expect((await products()).length).toBeGreaterThan(0); // the check above can see a frozen weight's product
    model.linearTransform = linear;
    delete (model as { outputHead?: unknown }).outputHead;

    expect(Math.abs(fast.loss - merged.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(merged.loss)));
    expect(Object.keys(fast.grads).sort()).toEqual(Object.keys(merged.grads).sort());
    for (const k of Object.keys(merged.grads)) expectClose(fast.grads[k]!, merged.grads[k]!, 1e-4, `${name} ${k}`);
    adapters.dispose();
    model.dispose();
  });
});

describe('Gemma 2’s soft-capped logits under LoRA', () => {
  it('the cap is applied on the loss path: without it the loss differs', () => {
    const gemma2 = FAMILIES.find((f) => f.name === 'gemma2')!;
    const capped = tinyConfig(gemma2);
    const loss = (c: DecoderConfig) => {
      const model = createModel(c, 7);
      const adapters = withNonzeroAdapters(model, ['blocks.0.attn.W_Q']);
      const l = lossAndGradsOf(model, () => lmLoss(model, randomBatch(2, B, T, c.vocabSize), { ceChunk: CHUNK })).loss;
      adapters.dispose();
      model.dispose();
      return l;
    };
    expect(Math.abs(loss(capped) - loss({ ...capped, finalSoftcap: undefined }))).toBeGreaterThan(1e-3);
  });
});
