import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { outOfMemoryError } from '../../src/backend/oom.ts';
import { checkStepFits, HEADROOM } from '../../src/trainer/memory-budget.ts';
import { estimateStepMemory, type StepShape } from '../../src/trainer/memory-estimate.ts';
import { stepShapeOf } from '../../src/trainer/memory-check.ts';
import { train } from '../../src/trainer/train.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';
import { tinyFamilyModel, useCpu } from '../helpers/tiny.ts';
import { attachRecipeLora } from '../../src/lora/build.ts';
import type { Recipe } from '../../src/recipe/schema.ts';

beforeAll(useCpu);

/** The issue's 16M-parameter model at batch 16 × 128 (GPT-2 vocabulary). */
const issueShape: StepShape = {
  vocabSize: 50257, dModel: 256, dMlp: 1024, nHeads: 8, nLayers: 4, params: 16_089_600, trainableParams: 16_089_600,
  batchSize: 16, seqLen: 128, gradAccum: 1, ceChunkRows: 333, recompute: false,
};

describe('step memory estimate', () => {
  it('adds up the documented formula', () => {
    const e = estimateStepMemory(issueShape);
    const P = issueShape.params;
    expect(e.weights).toBe(4 * P);
    expect(e.gradients).toBe(4 * P);
    expect(e.optimizer).toBe(8 * P);
    const N = 16 * 128;
    const aFwd = 12 * 256 + 3 * 1024 + 8 * 128 + 2;
    const aSaved = 8 * 256 + 3 * 1024 + 8 * 128 + 2;
    // tfjs keeps every intermediate gradient until the backward ends: 2.5·a_fwd per token and block.
    const backward = N * 4 * (aSaved + 2.5 * aFwd) + 5 * 333 * 50257 + 3 * 50257 * 256 + N * aFwd;
    expect(e.peak).toBe(4 * (4 * P + Math.max(N * 4 * aFwd, backward)));
    // Chunking is what makes it small: the whole [2048, 50257] logits would be 5 × 412 MB.
    const whole = estimateStepMemory({ ...issueShape, ceChunkRows: N });
    expect(whole.peak - e.peak).toBe(4 * 5 * (N - 333) * 50257);
  });

  it('counts LoRA-merged weights and their gradients (all blocks\' without recompute, one block\'s with) and Llama-style blocks', () => {
    // Backward-dominated shapes: the difference is exactly the documented terms.
    const A = 7_000_000;
    const L = issueShape.nLayers;
    const lora = { ...issueShape, trainableParams: 100_000 };
    expect(estimateStepMemory({ ...lora, adaptedWeights: A }).peak - estimateStepMemory(lora).peak).toBe(4 * 2 * A); // W + ΔW and its gradient
    const re = { ...lora, recompute: true };
    expect(estimateStepMemory({ ...re, adaptedWeights: A }).peak - estimateStepMemory(re).peak).toBe(4 * (2 * A / L));
    // SwiGLU (+2·M), RoPE (+2·(D + KV·dh)), grouped-query attention (+2·D) per token and block, in a_saved and a_fwd.
    const { dModel: D, dMlp: M } = issueShape;
    const N = issueShape.batchSize * issueShape.seqLen;
    const llama = { ...issueShape, nKvHeads: 2, dHead: 32, gatedMlp: true, rope: true };
    const extra = 2 * M + 2 * (D + 2 * 32) + 2 * D;
    expect(estimateStepMemory(llama).peak - estimateStepMemory(issueShape).peak).toBeCloseTo(4 * N * extra * (L * 3.5 + 1), 0);
  });

  it('reads the shape of a LoRA Llama model: adapted weights, grouped-query heads, SwiGLU, RoPE', () => {
    const model = tinyFamilyModel(1);
    const adapters = attachRecipeLora({ r: 4, alpha: 8, dropout: 0, rslora: false, targets: ['blocks.*.attn.W_Q', 'blocks.*.mlp.W_gate'] }, model as never, 0);
    const recipe = { trainer: { kind: 'sft', batch_size: 2, grad_accum: 1 }, memory: { ce_chunk: 'auto', recompute: false } } as unknown as Recipe;
    const s = stepShapeOf(recipe, model, 8);
    // 2 blocks × (W_Q [16, 16] + W_gate [16, 24]); trainable: the adapters only.
    expect(s.adaptedWeights).toBe(2 * (16 * 16 + 16 * 24));
    expect(s.trainableParams).toBe(2 * 4 * (16 + 16) + 2 * 4 * (16 + 24));
    expect(s).toMatchObject({ nKvHeads: 2, dHead: 4, gatedMlp: true, rope: true });
    adapters.dispose();
    model.dispose();
  });

  it('recompute and grad_accum move the terms they should', () => {
    const re = estimateStepMemory({ ...issueShape, recompute: true });
    expect(re.peak).toBeLessThan(estimateStepMemory(issueShape).peak);
    expect(estimateStepMemory({ ...issueShape, gradAccum: 2 }).gradients).toBe(8 * issueShape.params);
  });
});

describe('the pre-step memory check', () => {
  it('passes a step that fits and names computed settings for one that does not', () => {
    const limit = { bytes: 4e9, what: 'the wasm heap maximum' };
    expect(checkStepFits(issueShape, limit).peak).toBeLessThan(4e9 * HEADROOM);
    const tight = { bytes: estimateStepMemory({ ...issueShape, batchSize: 4, gradAccum: 4 }).peak / HEADROOM + 1, what: 'a small budget' };
    let err: unknown;
    try {
      checkStepFits(issueShape, tight);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BonsaiError);
    const msg = (err as Error).message;
    expect(msg).toContain('Stopped before the first step');
    // The largest batch that fits, with grad_accum raised to keep ≥ 16 sequences per step.
    expect(msg).toContain('trainer.batch_size: 4 with trainer.grad_accum: 4 (16 sequences per step, was 16');
    // Every suggested batch size / seq_len really fits by the estimate; one more does not.
    const seq = Number(/data\.seq_len: (\d+)/.exec(msg)![1]);
    expect(estimateStepMemory({ ...issueShape, seqLen: seq }).peak).toBeLessThanOrEqual(tight.bytes * HEADROOM);
    expect(estimateStepMemory({ ...issueShape, seqLen: seq + 1 }).peak).toBeGreaterThan(tight.bytes * HEADROOM);
    expect(msg).toMatch(/memory\.recompute: true/);
  });

  it('stops a training run before its first step, leaving no checkpoint, when memory.budget_mb is too small', async () => {
    const dir = tempDir();
    const probe = tinyRecipe(dir);
    const model = buildModel(probe, createTokenizer(probe.model.tokenizer));
    const shape = stepShapeOf(probe, model, probe.model.init.config!.n_ctx);
    model.dispose();
    // A budget where batch 2 fits and batch 4 (the recipe's) does not.
    const mb = estimateStepMemory({ ...shape, batchSize: 2, gradAccum: 2 }).peak / HEADROOM / 1e6 + 1e-6;
    const recipe = tinyRecipe(dir, { extra: `memory: { budget_mb: ${mb} }` });
    await expect(train(recipe)).rejects.toThrow(/Stopped before the first step; settings that fit:[\s\S]*trainer\.batch_size: 2 with trainer\.grad_accum: 2/);
    expect(existsSync(recipe.run.out_dir)).toBe(false); // no run opened, nothing written
  });
});

describe('out-of-memory errors', () => {
  it("turns wasm's Aborted() and an allocation failure into a memory error, and leaves others alone", () => {
    const abort = new Error('Aborted(). Build with -sASSERTIONS for more info.');
    abort.name = 'RuntimeError';
    expect(outOfMemoryError(abort)?.message).toMatch(/wasm backend aborted: its heap \(4 GiB at most\) ran out of memory/);
    expect(outOfMemoryError(new RangeError('Array buffer allocation failed'))?.message).toMatch(/ran out of memory/);
    expect(outOfMemoryError(new Error('shapes do not match'))).toBeUndefined();
    // An out-of-bounds access is memory only with the wasm heap at its maximum.
    const oob = Object.assign(new Error('memory access out of bounds'), { name: 'RuntimeError' }); // as WebAssembly throws it
    expect(outOfMemoryError(oob, 4.29e9)?.message).toMatch(/heap \(4 GiB at most\) ran out of memory/);
    expect(outOfMemoryError(oob, 1e9)).toBeUndefined();
    expect(outOfMemoryError(oob, undefined)).toBeUndefined();
  });
});
