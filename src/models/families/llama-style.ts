/**
 * What the Llama-style families share (Llama, Mistral, Qwen2/3, Gemma 2/3, OLMo 2): the
 * config.json fields for sizes, grouped-query attention, head_dim, RoPE and RMSNorm; the
 * `model.layers.{i}.…` tensor names; and the config.json a model of theirs is written as.
 * A family module takes these and changes what differs.
 */
import type { Activation, DecoderConfig, Family, FamilyRecipeConfig, HfTensorSpec } from './family.ts';
import type { HfFields } from './fields.ts';
import { readRope, ropeScalingJson } from './rope.ts';

/** What a family's transformers config class fills in when config.json leaves a field out. */
export interface LlamaStyleDefaults {
  ropeTheta: number;
  rmsNormEps: number;
  tied: boolean;
  /** config.json's activation names → bonsai's, and the field holding it. */
  activations: Record<string, Activation>;
  activationField?: string;
  activationDefault?: string;
  /** num_key_value_heads and head_dim when absent (default: the query heads, hidden_size / heads). */
  kvHeads?: number;
  headDim?: number;
}

/** A Llama-style config.json → the decoder config of a plain Llama (pre-RMSNorm, SwiGLU, RoPE, no biases). */
export function readLlamaStyle(f: HfFields, d: LlamaStyleDefaults): Omit<DecoderConfig, 'family'> {
  const dModel = f.int('hidden_size');
  const nHeads = f.int('num_attention_heads');
  const nKvHeads = f.int('num_key_value_heads', d.kvHeads ?? nHeads);
  if (nHeads % nKvHeads !== 0) f.bad('num_key_value_heads', `${nKvHeads} does not divide num_attention_heads ${nHeads}`);
  const dHead = f.get('head_dim', d.headDim) === undefined ? dModel / nHeads : f.int('head_dim', d.headDim);
  if (!Number.isInteger(dHead)) f.bad('hidden_size', `${dModel} is not a multiple of num_attention_heads ${nHeads} and head_dim is not given`);
  const field = d.activationField ?? 'hidden_act';
  f.refuse('mlp_bias', true, 'bonsai reads MLP biases for GPT-2 and GPT-NeoX only');
  f.refuse('attention_bias', true, 'not in this family');
  return {
    vocabSize: f.int('vocab_size'),
    dModel,
    nLayers: f.int('num_hidden_layers'),
    nHeads,
    nKvHeads,
    dHead,
    dMlp: f.int('intermediate_size'),
    nCtx: f.int('max_position_embeddings'),
    tiedEmbeddings: f.bool('tie_word_embeddings', d.tied),
    initStd: f.num('initializer_range', 0.02),
    positions: 'rope',
    embedScale: 1,
    norm: 'rms',
    normEps: f.num('rms_norm_eps', d.rmsNormEps),
    normPlusOne: false,
    normPlacement: 'pre',
    parallelResidual: false,
    bias: { qkv: false, out: false, mlp: false, unembed: false },
    qkNorm: 'none',
    mlp: { gated: true, act: f.activation([field], d.activations, d.activationDefault ?? Object.keys(d.activations)[0]!) },
    rope: readRope(f, dHead, { theta: d.ropeTheta }),
    attnScale: 1 / Math.sqrt(dHead),
  };
}

/** transformers' norm names per placement → bonsai's. */
const NORMS: Record<DecoderConfig['normPlacement'], Array<[hf: string, bonsai: string]>> = {
  pre: [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln2']],
  post: [['post_attention_layernorm', 'ln1_post'], ['post_feedforward_layernorm', 'ln2_post']],
  sandwich: [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln1_post'], ['pre_feedforward_layernorm', 'ln2'], ['post_feedforward_layernorm', 'ln2_post']],
};

/**
 * The tensors of a Llama-style checkpoint. Paths: embed.W_E; blocks.{i}.ln1|ln1_post|ln2|ln2_post.w;
 * attn.W_Q|W_K|W_V|W_O and b_Q|b_K|b_V; attn.q_norm.w|k_norm.w; mlp.W_gate|W_in|W_out (W_in is up_proj);
 * ln_final.w; unembed.W_U when untied.
 */
export function llamaStyleTensors(c: DecoderConfig): Map<string, HfTensorSpec> {
  const { vocabSize: V, dModel: D, dMlp: M, nHeads: H, nKvHeads: KV, dHead: dh } = c;
  const specs = new Map<string, HfTensorSpec>();
  const add = (name: string, shape: number[], kind: HfTensorSpec['kind'], path: string) => specs.set(name, { shape, kind, paths: [path] });
  add('model.embed_tokens.weight', [V, D], 'copy', 'embed.W_E');
  for (let i = 0; i < c.nLayers; i++) {
    const [hf, b] = [`model.layers.${i}`, `blocks.${i}`];
    for (const [name, path] of NORMS[c.normPlacement]) add(`${hf}.${name}.weight`, [D], 'copy', `${b}.${path}.w`);
    add(`${hf}.self_attn.q_proj.weight`, [H * dh, D], 'linear', `${b}.attn.W_Q`);
    add(`${hf}.self_attn.k_proj.weight`, [KV * dh, D], 'linear', `${b}.attn.W_K`);
    add(`${hf}.self_attn.v_proj.weight`, [KV * dh, D], 'linear', `${b}.attn.W_V`);
    add(`${hf}.self_attn.o_proj.weight`, [D, H * dh], 'linear', `${b}.attn.W_O`);
    if (c.bias.qkv) {
      add(`${hf}.self_attn.q_proj.bias`, [H * dh], 'copy', `${b}.attn.b_Q`);
      add(`${hf}.self_attn.k_proj.bias`, [KV * dh], 'copy', `${b}.attn.b_K`);
      add(`${hf}.self_attn.v_proj.bias`, [KV * dh], 'copy', `${b}.attn.b_V`);
    }
    if (c.qkNorm !== 'none') {
      const whole = c.qkNorm === 'projection';
      add(`${hf}.self_attn.q_norm.weight`, [whole ? H * dh : dh], 'copy', `${b}.attn.q_norm.w`);
      add(`${hf}.self_attn.k_norm.weight`, [whole ? KV * dh : dh], 'copy', `${b}.attn.k_norm.w`);
    }
    add(`${hf}.mlp.gate_proj.weight`, [M, D], 'linear', `${b}.mlp.W_gate`);
    add(`${hf}.mlp.up_proj.weight`, [M, D], 'linear', `${b}.mlp.W_in`);
    add(`${hf}.mlp.down_proj.weight`, [D, M], 'linear', `${b}.mlp.W_out`);
  }
  add('model.norm.weight', [D], 'copy', 'ln_final.w');
  if (!c.tiedEmbeddings) add('lm_head.weight', [V, D], 'linear', 'unembed.W_U');
  return specs;
}

/** The config.json fields every Llama-style family writes; `activation` names the MLP's. */
export function llamaStyleJson(family: Family, c: DecoderConfig, activation: Record<string, unknown>): Record<string, unknown> {
  const scaling = ropeScalingJson(c.rope?.scaling);
  const dims = { vocab: c.vocabSize, hidden: c.dModel, layers: c.nLayers, heads: c.nHeads, kvHeads: c.nKvHeads, headDim: c.dHead, mlp: c.dMlp, positions: c.nCtx };
  return commonJson(family, dims, activation, { rms_norm_eps: c.normEps, rope_theta: c.rope?.theta, ...(scaling ? { rope_scaling: scaling } : {}), tie_word_embeddings: c.tiedEmbeddings, initializer_range: c.initStd });
}

/** The config.json of a from-scratch Llama-style model. */
export function llamaStyleScratch(family: Family, r: FamilyRecipeConfig, activation: Record<string, unknown>): Record<string, unknown> {
  const dims = { vocab: r.vocab_size, hidden: r.d_model, layers: r.n_layers, heads: r.n_heads, kvHeads: r.n_kv_heads ?? r.n_heads, headDim: r.head_dim ?? r.d_model / r.n_heads, mlp: r.d_mlp, positions: r.n_ctx };
  return commonJson(family, dims, activation, { rms_norm_eps: r.layer_norm_eps, rope_theta: r.rope_theta ?? 10000, tie_word_embeddings: r.tied_embeddings, initializer_range: r.init_std });
}

/** The fields in the order transformers' configs list them: names and sizes, the activation, then `rest`. */
function commonJson(family: Family, d: Record<'vocab' | 'hidden' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'mlp' | 'positions', number>, activation: Record<string, unknown>, rest: Record<string, unknown>): Record<string, unknown> {
  return {
    architectures: [family.architectures[0]],
    model_type: family.modelTypes[0],
    vocab_size: d.vocab,
    hidden_size: d.hidden,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads,
    head_dim: d.headDim,
    intermediate_size: d.mlp,
    max_position_embeddings: d.positions,
    ...activation,
    ...rest,
  };
}

/** Recipe fields every Llama-style family reads. */
export const LLAMA_STYLE_FIELDS = ['n_kv_heads', 'head_dim', 'rope_theta'] as const;
