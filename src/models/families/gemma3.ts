/**
 * Gemma 3, text (`Gemma3ForCausalLM`, model_type `gemma3_text`): Gemma 2's block (gemma2.ts)
 * with an RMSNorm (1 + w) on each head's q and k before RoPE, no soft-capping unless the config
 * sets it, five local layers to one global by default (`sliding_window_pattern`, or
 * `layer_types`), and local layers with their own RoPE base (`rope_local_base_freq`, unscaled)
 * while global ones use `rope_theta` with `rope_scaling`. Newer configs put both in
 * `rope_parameters` by layer type.
 */
import type { Family, RopeSpec } from './family.ts';
import type { HfFields } from './fields.ts';
import { readRope } from './rope.ts';
import { gemmaJson, gemmaScratch, readGemma } from './gemma2.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleTensors } from './llama-style.ts';

export const gemma3: Family = {
  name: 'gemma3',
  modelTypes: ['gemma3_text'],
  architectures: ['Gemma3ForCausalLM'],
  summary: 'as Gemma 2, plus q/k norm, 5 local layers per global one, local layers with their own RoPE base',
  readConfig(f) {
    const c = readGemma(f, { ropeTheta: 1e6, globalEvery: 6 });
    const { global, local } = gemma3Rope(f, c.dHead, c.rope!);
    return { ...c, qkNorm: 'head', rope: global, localRope: local };
  },
  writeConfig: (c) => gemmaJson(gemma3, c, { rope_local_base_freq: c.localRope?.theta ?? c.rope?.theta }),
  scratchConfig: (r) => gemmaScratch(gemma3, r, { rope_local_base_freq: 10000, rope_theta: r.rope_theta ?? 1e6 }),
  recipeFields: [...LLAMA_STYLE_FIELDS, 'sliding_window'],
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
  dtypeSensitive: true,
};

/** Global and local RoPE: `rope_parameters` by layer type (newer files), else rope_theta/rope_scaling and rope_local_base_freq. */
function gemma3Rope(f: HfFields, dHead: number, fromTop: RopeSpec): { global: RopeSpec; local: RopeSpec } {
  const byType = f.get('rope_parameters') as Record<string, unknown> | undefined;
  const types = byType && typeof byType === 'object' && ('full_attention' in byType || 'sliding_attention' in byType) ? byType : undefined;
  const part = (t: string) => (typeof types?.[t] === 'object' && types[t] !== null ? (types[t] as Record<string, unknown>) : {});
  if (types) {
    return {
      global: readRope(f, dHead, { theta: 1e6, params: part('full_attention'), paramsField: 'rope_parameters.full_attention' }),
      local: readRope(f, dHead, { theta: 10000, params: part('sliding_attention'), paramsField: 'rope_parameters.sliding_attention' }),
    };
  }
  return { global: fromTop, local: { theta: f.num('rope_local_base_freq', 10000), rotaryDim: dHead } };
}
