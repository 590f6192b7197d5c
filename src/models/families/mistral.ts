/**
 * Mistral (`MistralForCausalLM`): Llama's block; every layer attends within `sliding_window`
 * positions when the config sets one (transformers' default, 4096, when the field is absent).
 */
import type { Family } from './family.ts';
import { readWindow } from './fields.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleJson, llamaStyleScratch, llamaStyleTensors, readLlamaStyle } from './llama-style.ts';

export const mistral: Family = {
  name: 'mistral',
  modelTypes: ['mistral'],
  architectures: ['MistralForCausalLM'],
  summary: "as Llama, with Mistral's sliding window on every layer",
  readConfig(f) {
    const c = readLlamaStyle(f, { ropeTheta: 10000, rmsNormEps: 1e-6, tied: false, activations: { silu: 'silu' } });
    const window = readWindow(f, c.nLayers, c.nCtx, () => true, 4096);
    return { ...c, ...(window ? { window } : {}) };
  },
  writeConfig: (c) => ({ ...llamaStyleJson(mistral, c, { hidden_act: 'silu' }), sliding_window: c.window?.size ?? null }),
  scratchConfig: (r) => ({ ...llamaStyleScratch(mistral, r, { hidden_act: 'silu' }), sliding_window: r.sliding_window ?? null }),
  recipeFields: [...LLAMA_STYLE_FIELDS, 'sliding_window'],
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
};
