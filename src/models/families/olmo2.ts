/**
 * OLMo 2 (`Olmo2ForCausalLM`): Llama's names and SwiGLU with no norm before attention or the
 * MLP but an RMSNorm after each (post_attention_layernorm, post_feedforward_layernorm), and q/k
 * RMSNorms over the whole q and k projections, applied before they split into heads and RoPE.
 */
import type { Family } from './family.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleJson, llamaStyleScratch, llamaStyleTensors, readLlamaStyle } from './llama-style.ts';

export const olmo2: Family = {
  name: 'olmo2',
  modelTypes: ['olmo2'],
  architectures: ['Olmo2ForCausalLM'],
  summary: 'RMSNorm after attention and after the MLP (none before), q/k norm over the whole projections, SwiGLU',
  readConfig: (f) => ({
    ...readLlamaStyle(f, { ropeTheta: 10000, rmsNormEps: 1e-5, tied: false, activations: { silu: 'silu' } }),
    normPlacement: 'post',
    qkNorm: 'projection',
  }),
  writeConfig: (c) => llamaStyleJson(olmo2, c, { hidden_act: 'silu' }),
  scratchConfig: (r) => llamaStyleScratch(olmo2, r, { hidden_act: 'silu' }),
  recipeFields: LLAMA_STYLE_FIELDS,
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
};
