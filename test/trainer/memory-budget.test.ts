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
    expect(e.packed).toBe(0);
    const N = 16 * 128;
    const aSaved = 8 * 256 + 3 * 1024 + 8 * 128;
    const aFwd = 12 * 256 + 3 * 1024 + 8 * 128 + 2;
    const head = 5 * 333 * 50257 + 3 * 50257 * 256; // a trained head: one chunk's logits temporaries, its copies
    expect(e.peak).toBe(4 * (4 * P + N * 4 * aSaved + Math.max(N * aFwd, head)));
    // Chunking is what makes it small: the whole [2048, 50257] logits would be 5 × 412 MB.
    const whole = estimateStepMemory({ ...issueShape, ceChunkRows: N });
    expect(whole.peak - e.peak).toBe(4 * 5 * (N - 333) * 50257);
    // With recomputation a block keeps its input; the larger of one block's rerun and the head is on top.
    const re = estimateStepMemory({ ...issueShape, recompute: true });
    expect(re.peak).toBe(4 * (4 * P + N * 4 * 256 + Math.max(N * (aSaved + aFwd), head)));
  });

  it('counts a frozen head, LoRA ranks, packed weight copies and Llama-style blocks', () => {
    const { dModel: D, dMlp: M, vocabSize: V } = issueShape;
    const N = issueShape.batchSize * issueShape.seqLen;
    const L = issueShape.nLayers;
    const lora = { ...issueShape, trainableParams: 100_000 };
    // A frozen head (LoRA, a frozen copy): two chunk-sized temporaries and the kept [N, D] gradient, no copies of the head.
    const frozen = estimateStepMemory({ ...lora, frozenHead: true, ceChunkRows: 4096 });
    expect(frozen.logits).toBe(4 * (2 * N * V + N * D));
    // Each adapted layer keeps x·Aᵀ: Σr floats per token.
    expect(estimateStepMemory({ ...lora, loraRanks: 800 }).peak - estimateStepMemory(lora).peak).toBe(4 * N * 800);
    expect(estimateStepMemory({ ...lora, packedWeights: 1_000_000 }).packed).toBe(4e6);
    expect(estimateStepMemory({ ...lora, packedWeights: 1_000_000 }).peak - estimateStepMemory(lora).peak).toBe(4e6);
    // Grouped-query attention keeps k and v at their own width besides the repeated ones (a_saved);
    // SwiGLU, RoPE and the repeat add to one block's transients (a_fwd), which here stay below the head's.
    const llama = { ...issueShape, nKvHeads: 2, dHead: 32, gatedMlp: true, rope: true };
    expect(estimateStepMemory(llama).peak - estimateStepMemory(issueShape).peak).toBe(4 * N * L * 2 * 2 * 32);
    const small = { ...issueShape, vocabSize: 256, ceChunkRows: N };
    const smallLlama = { ...small, nKvHeads: 2, dHead: 32, gatedMlp: true, rope: true };
    expect(estimateStepMemory(smallLlama).peak - estimateStepMemory(small).peak).toBe(4 * N * (L * 2 * 64 + 2 * M + 2 * (D + 64) + 2 * D));
  });

  it('reads the shape of a LoRA Llama model: adapter ranks, a frozen head, packed copies on wasm, grouped-query heads, SwiGLU, RoPE', () => {
    const model = tinyFamilyModel(1);
    const adapters = attachRecipeLora({ r: 4, alpha: 8, dropout: 0, rslora: false, targets: ['blocks.*.attn.W_Q', 'blocks.*.mlp.W_gate'] }, model as never, 0);
    const recipe = { trainer: { kind: 'sft', batch_size: 2, grad_accum: 1 }, memory: { ce_chunk: 'auto', recompute: false } } as unknown as Recipe;
    const s = stepShapeOf(recipe, model, 8);
    // 2 blocks × (W_Q, W_gate) at rank 4; trainable: the adapters only.
    expect(s.loraRanks).toBe(2 * 2 * 4);
    expect(s.trainableParams).toBe(2 * 4 * (16 + 16) + 2 * 4 * (16 + 24));
    expect(s).toMatchObject({ nKvHeads: 2, dHead: 4, gatedMlp: true, rope: true, frozenHead: true, packedWeights: 0 });
    // On wasm (XNNPACK) every linear weight has a packed copy: per block Q [16,16], K and V [16,8], O [16,16], gate/in [16,24], out [24,16]; and W_U [16,23].
    expect(stepShapeOf(recipe, model, 8, 'wasm').packedWeights).toBe(2 * (2 * 256 + 2 * 128 + 3 * 384) + 16 * 23);
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

  it('when nothing of the recipe fits, names what would: a backend without packed weight copies, or fewer layers', () => {
    // A Qwen2.5-0.5B-shaped LoRA step on wasm: the weights and XNNPACK's packed copies of them alone pass 3.44 GB.
    const qwen: StepShape = {
      vocabSize: 151936, dModel: 896, dMlp: 4864, nHeads: 14, nKvHeads: 2, dHead: 64, nLayers: 24, params: 494_032_768, trainableParams: 8_798_208,
      batchSize: 2, seqLen: 256, gradAccum: 1, ceChunkRows: 110, recompute: false, gatedMlp: true, rope: true, frozenHead: true,
      loraRanks: 24 * 7 * 16, packedWeights: 494_032_768,
    };
    const limit = { bytes: 2 ** 32, what: 'the wasm heap maximum' };
    let msg = '';
    try {
      checkStepFits(qwen, limit);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain("the backend's packed weight copies 1.98 GB");
    expect(msg).toMatch(/a backend that keeps no packed copies of the weights \(these are 1\.98 GB; backend: tensorflow keeps none\)/);
    const layers = Number(/at most (\d+) of its 24 layers/.exec(msg)![1]);
    expect(layers).toBeGreaterThan(0);
    expect(layers).toBeLessThan(24);
    expect(msg).not.toContain('trainer.batch_size:'); // no batch, sequence or recompute setting fits
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
