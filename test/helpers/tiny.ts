import * as tf from '@tensorflow/tfjs';
import { HookedTransformer, modelConfig, type ModelConfig } from '../../src/models/index.ts';
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
