import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer, modelConfig, type ModelConfig } from '../../src/models/index.ts';
import type { LoadedModel } from '../../src/diff/index.ts';

/** A byte-vocabulary tiny config, so text data and the byte tokenizer fit it. */
export const byteConfig: ModelConfig = modelConfig({ vocabSize: 257, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: false });

/** A model as `loadModelAt` would give it, from values. */
export function loaded(path: string, values: Map<string, Float32Array>, config = byteConfig): LoadedModel {
  return { path, model: HookedTransformer.fromValues(config, values), tokenizer: createTokenizer('byte'), tokenizerKind: 'byte' };
}

/** A copy of `values` with `edit` applied to one tensor's copy. */
export function edited(values: Map<string, Float32Array>, path: string, edit: (w: Float32Array) => void): Map<string, Float32Array> {
  const out = new Map([...values].map(([k, v]) => [k, v.slice()]));
  edit(out.get(path)!);
  return out;
}
