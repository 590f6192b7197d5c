import * as tf from '@tensorflow/tfjs';
import { createModel, HookedTransformer, modelConfig, type CausalLM, type LMConfig, type ModelConfig } from '../../src/models/index.ts';
import { familyConfigFromRecipe } from '../../src/models/families/config.ts';
import type { LmBatch } from '../../src/trainer/index.ts';
import { Rng } from '../../src/util/rng.ts';

/** Switches tfjs to the pure-JS cpu backend (present everywhere; the reference numerics). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export const tinyConfig: ModelConfig = modelConfig({ vocabSize: 23, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: false });

export function tinyModel(seed = 1, config: ModelConfig = tinyConfig): HookedTransformer {
  return HookedTransformer.create(config, seed);
}

/** A random batch with every target counted. */
export function randomBatch(seed: number, B: number, T: number, vocab: number): LmBatch {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * (T + 1) }, () => rng.int(vocab));
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    inputs.set(ids.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(ids.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return { inputs, targets, weights: new Float32Array(B * T).fill(1), batchSize: B, seqLen: T };
}

export function ids2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, undefined, 'int32');
}

/** A tiny Llama-family config trained from scratch: GQA (4 query heads, 2 key/value heads), SwiGLU, RoPE. */
export const tinyLlamaConfig: LMConfig = familyConfigFromRecipe({
  family: 'llama', vocab_size: 23, d_model: 16, n_layers: 2, n_heads: 4, n_kv_heads: 2, d_mlp: 24, n_ctx: 8, tied_embeddings: false, layer_norm_eps: 1e-5, init_std: 0.02,
});

/** A tiny model of any family (registry.ts), e.g. `tinyLlamaConfig`. */
export function tinyFamilyModel(seed = 1, config: LMConfig = tinyLlamaConfig): CausalLM {
  return createModel(config, seed);
}
