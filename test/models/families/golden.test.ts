import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHfModel } from '../../../src/models/families/load.ts';
import type { HookedTransformer } from '../../../src/models/decoder.ts';
import { initBackend } from '../../../src/backend/index.ts';
import { readGolden } from '../../helpers/golden.ts';

// Fixtures and golden logits by scripts/make-family-fixtures.py (PyTorch forwards written
// from the published HF modeling code). Each fixture exercises what differs:
const FIXTURES: Record<string, string> = {
  llama3: 'GQA 4q/2kv, llama3 rope scaling, positions past original_max_position_embeddings (8), tied',
  'llama-linear': 'linear rope scaling, untied lm_head, bf16 storage',
  mistral: 'GQA, explicit head_dim, untied, sharded model.safetensors.index.json, a 4-token sliding window on every layer',
  qwen2: 'q/k/v biases, tied',
  qwen3: 'q/k RMSNorm per head, head_dim 16 != hidden/heads, f16 storage',
  pythia: 'parallel residual, partial rotary (4 of 16 dims), fused per-head qkv, LayerNorm with bias, untied embed_out, exact gelu',
  gemma2: 'four (1 + w) RMSNorms per block, GeGLU, embedding × √d, query_pre_attn_scalar, soft-capped scores and logits, local/global alternation with a 4-token window',
  gemma3: 'as Gemma 2 with q/k norm, layer_types, local RoPE base vs scaled global RoPE, √48 rounded in bf16, bf16 storage, no soft-caps',
  olmo2: 'norms after attention and after the MLP only, q/k RMSNorm over the whole projections (GQA), untied',
};

// cpu is tfjs's reference kernels; wasm runs bonsai's own kernels and fused ops.
describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
  describe.each(Object.entries(FIXTURES))('%s', (name, checks) => {
    const dir = join('test/fixtures/hf', name);
    const golden = readGolden(name);
    let model: HookedTransformer;
    beforeAll(async () => {
      await initBackend(backend);
      model = loadHfModel(dir);
    });
    afterAll(() => model.dispose());

    it(`matches PyTorch's logits within 1e-4 (${checks})`, () => {
      const ids = tf.tensor2d(golden.input_ids, undefined, 'int32');
      const { logits } = model.forward(ids);
      const got = logits.arraySync();
      let worst = 0;
      golden.logits.forEach((row, b) => row.forEach((want, t) => want.forEach((w, v) => (worst = Math.max(worst, Math.abs(got[b]![t]![v]! - w))))));
      tf.dispose([ids, logits]);
      if (process.env.BONSAI_REPORT_DIFF) console.log(`${backend} ${name}: max abs diff ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
    });

    it('continues greedily like the reference', () => {
      const before = tf.memory().numTensors;
      const seq = [...golden.input_ids[golden.greedy_prompt_row]!];
      const out: number[] = [];
      for (let n = 0; n < golden.greedy_new_ids.length; n++) {
        const next = tf.tidy(() => {
          const { logits } = model.forward(tf.tensor2d([seq], undefined, 'int32'));
          return tf.argMax(tf.squeeze(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, -1]))).dataSync()[0]!;
        });
        out.push(next);
        seq.push(next);
      }
      expect(out).toEqual(golden.greedy_new_ids);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
