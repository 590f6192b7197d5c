/**
 * Qwen2 and Qwen2.5 (`Qwen2ForCausalLM`): Llama's block with biases on the q/k/v projections.
 * With `use_sliding_window`, layers from `max_window_layers` on attend within `sliding_window`.
 */
import type { Family } from './family.ts';
import { qwenWindow, qwenWindowJson } from './qwen3.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleJson, llamaStyleScratch, llamaStyleTensors, readLlamaStyle } from './llama-style.ts';

export const qwen2: Family = {
  name: 'qwen2',
  modelTypes: ['qwen2'],
  architectures: ['Qwen2ForCausalLM'],
  summary: 'as Llama, plus q/k/v biases',
  readConfig(f) {
    const c = readLlamaStyle(f, { ropeTheta: 10000, rmsNormEps: 1e-6, tied: false, activations: { silu: 'silu' } });
    const window = qwenWindow(f, c.nLayers, c.nCtx);
    return { ...c, bias: { ...c.bias, qkv: true }, ...(window ? { window } : {}) };
  },
  writeConfig: (c) => ({ ...llamaStyleJson(qwen2, c, { hidden_act: 'silu' }), ...qwenWindowJson(c) }),
  scratchConfig: (r) => llamaStyleScratch(qwen2, r, { hidden_act: 'silu' }),
  recipeFields: LLAMA_STYLE_FIELDS,
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
};
