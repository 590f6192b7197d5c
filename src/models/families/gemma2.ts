/**
 * Gemma 2 (`Gemma2ForCausalLM`): Llama's names with four norms per block — RMSNorm scaled by
 * (1 + w) before and after both attention and the MLP — a GeGLU MLP (tanh GELU), the embedding
 * multiplied by √d in the model's dtype, scores scaled by query_pre_attn_scalar^−0.5 and
 * soft-capped, logits soft-capped, and sliding-window layers alternating with global ones
 * (the first local). Gemma 3 (gemma3.ts) reads the same fields and adds its own.
 */
import type { DecoderConfig, Family, FamilyRecipeConfig } from './family.ts';
import { inModelDtype, layerTypesJson, readWindow, type HfFields } from './fields.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleJson, llamaStyleScratch, llamaStyleTensors, readLlamaStyle } from './llama-style.ts';

export const gemma2: Family = {
  name: 'gemma2',
  modelTypes: ['gemma2'],
  architectures: ['Gemma2ForCausalLM'],
  summary: 'RMSNorm (1 + w) before and after attention and MLP, GeGLU, embedding × √d, soft-capped scores and logits, local and global layers alternating',
  readConfig: (f) => readGemma(f, { ropeTheta: 10000, attnSoftcap: 50, finalSoftcap: 30, globalEvery: 2 }),
  writeConfig: (c) => gemmaJson(gemma2, c),
  scratchConfig: (r) => gemmaScratch(gemma2, r),
  recipeFields: [...LLAMA_STYLE_FIELDS, 'sliding_window'],
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
  dtypeSensitive: true,
};

/** What the Gemma config classes fill in when config.json leaves a field out. */
interface GemmaDefaults {
  ropeTheta: number;
  attnSoftcap?: number;
  finalSoftcap?: number;
  /** Without layer_types, every globalEvery-th layer is global and the rest slide (sliding_window_pattern overrides). */
  globalEvery: number;
}

/** A Gemma config.json → the decoder's config. */
export function readGemma(f: HfFields, d: GemmaDefaults): Omit<DecoderConfig, 'family'> {
  const activations = { gelu_pytorch_tanh: 'gelu_tanh', gelu_new: 'gelu_tanh', gelu: 'gelu' } as const;
  const c = readLlamaStyle(f, { ropeTheta: d.ropeTheta, rmsNormEps: 1e-6, tied: true, activations, activationField: 'hidden_activation', activationDefault: 'gelu_pytorch_tanh', kvHeads: 4, headDim: 256 });
  const every = f.int('sliding_window_pattern', d.globalEvery);
  const window = readWindow(f, c.nLayers, c.nCtx, (i) => (i + 1) % every !== 0, 4096);
  const attnSoftcap = f.optionalPositive('attn_logit_softcapping', d.attnSoftcap);
  const finalSoftcap = f.optionalPositive('final_logit_softcapping', d.finalSoftcap);
  return {
    ...c,
    // transformers multiplies by sqrt(hidden_size) as a tensor of the model's dtype (bf16: √3072 = 55.5).
    embedScale: inModelDtype(f, Math.sqrt(c.dModel)),
    normPlusOne: true,
    normPlacement: 'sandwich',
    attnScale: Math.pow(f.num('query_pre_attn_scalar', 256), -0.5),
    ...(attnSoftcap !== undefined ? { attnSoftcap } : {}),
    ...(finalSoftcap !== undefined ? { finalSoftcap } : {}),
    ...(window ? { window } : {}),
  };
}

/** The config.json fields of a Gemma config. */
export function gemmaJson(family: Family, c: DecoderConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const scalar = 1 / (c.attnScale * c.attnScale);
  const bf16 = c.embedScale !== Math.fround(Math.sqrt(c.dModel));
  return {
    ...llamaStyleJson(family, c, { hidden_activation: c.mlp.act === 'gelu' ? 'gelu' : 'gelu_pytorch_tanh' }),
    query_pre_attn_scalar: Math.abs(scalar - Math.round(scalar)) < 1e-9 ? Math.round(scalar) : scalar,
    sliding_window: c.window?.size ?? null,
    layer_types: layerTypesJson(c.window, c.nLayers),
    attn_logit_softcapping: c.attnSoftcap ?? null,
    final_logit_softcapping: c.finalSoftcap ?? null,
    // The embedding scale depends on it: keep the dtype whose rounding the model uses.
    torch_dtype: bf16 ? 'bfloat16' : 'float32',
    ...extra,
  };
}

/** The config.json of a from-scratch Gemma: query_pre_attn_scalar = head_dim; the window, unless given, the whole context. */
export function gemmaScratch(family: Family, r: FamilyRecipeConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...llamaStyleScratch(family, r, { hidden_activation: 'gelu_pytorch_tanh' }),
    query_pre_attn_scalar: r.head_dim ?? r.d_model / r.n_heads,
    sliding_window: r.sliding_window ?? r.n_ctx,
    torch_dtype: 'float32',
    ...extra,
  };
}
