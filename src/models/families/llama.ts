/**
 * Llama 1/2/3/3.1/3.2 and SmolLM2 (`LlamaForCausalLM`): pre-RMSNorm, SwiGLU, grouped-query
 * attention, RoPE with `linear` or `llama3` scaling; the shared Llama-style pieces as they are.
 */
import type { Family } from './family.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleJson, llamaStyleScratch, llamaStyleTensors, readLlamaStyle } from './llama-style.ts';

export const llama: Family = {
  name: 'llama',
  modelTypes: ['llama'],
  architectures: ['LlamaForCausalLM'],
  summary: 'RMSNorm, SwiGLU, grouped-query attention, RoPE (linear / llama3 scaling)',
  readConfig: (f) => readLlamaStyle(f, { ropeTheta: 10000, rmsNormEps: 1e-6, tied: false, activations: { silu: 'silu' } }),
  writeConfig: (c) => llamaStyleJson(llama, c, { hidden_act: 'silu' }),
  scratchConfig: (r) => llamaStyleScratch(llama, r, { hidden_act: 'silu' }),
  recipeFields: LLAMA_STYLE_FIELDS,
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
};
