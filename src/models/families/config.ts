/**
 * The family-neutral description of a decoder (what the shared blocks in layers.ts need),
 * and its mapping from a Hugging Face `config.json`. Every field bonsai cannot honour is
 * collected and reported at once, each named, so a user fixes a checkpoint in one pass.
 */
import { BonsaiError, BonsaiErrors } from '../../errors.ts';

/** The decoder families read from Hugging Face checkpoints. */
export type FamilyName = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gpt_neox';

/** RoPE frequency scaling (`rope_scaling` in config.json). */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface DecoderConfig {
  family: FamilyName;
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads; kv head j serves query heads j·(nHeads/nKvHeads) … (j+1)·(nHeads/nKvHeads) − 1. */
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  /** Longest sequence bonsai runs: the requested context length, else max_position_embeddings. */
  nCtx: number;
  norm: 'rms' | 'layer';
  normEps: number;
  /** RoPE base, the number of leading head dims rotated, and scaling. */
  rope: { theta: number; rotaryDim: number; scaling?: RopeScaling };
  /** Biases on the q/k/v projections (Qwen2, GPT-NeoX); GPT-NeoX also biases W_O and the MLP. */
  qkvBias: boolean;
  denseBias: boolean;
  /** RMSNorm over each head's q and k before RoPE (Qwen3). */
  qkNorm: boolean;
  /** x + attn(ln1(x)) + mlp(ln2(x)) (GPT-NeoX) instead of two sequential residual adds. */
  parallelResidual: boolean;
  mlp: 'swiglu' | 'gelu';
  tiedEmbeddings: boolean;
  /** Std of the normal init of weight matrices when trained from scratch (HF `initializer_range`). */
  initStd: number;
}

type Json = Record<string, unknown>;

const FAMILY_BY_ARCH: Record<string, FamilyName> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  GPTNeoXForCausalLM: 'gpt_neox',
};
const FAMILIES = new Set<string>(Object.values(FAMILY_BY_ARCH));

/** The `architectures` entry Hugging Face writes for a family (e.g. LlamaForCausalLM). */
export function architectureOf(family: FamilyName): string {
  return Object.entries(FAMILY_BY_ARCH).find(([, f]) => f === family)![0];
}

/**
 * Maps an HF config to a DecoderConfig. `file` names the config in errors; `contextLength`
 * (default: max_position_embeddings) becomes nCtx, the longest sequence forward() accepts,
 * and must fit in a Mistral/Qwen sliding window since bonsai attends over the whole context.
 */
export function decoderConfigFromHf(hf: Json, file: string, contextLength?: number): DecoderConfig {
  const problems: BonsaiError[] = [];
  const bad = (field: string, msg: string) => problems.push(new BonsaiError(`${field}: ${msg}`, { where: file }));
  const int = (field: string, fallback?: number): number => {
    const v = hf[field] ?? fallback;
    if (!Number.isInteger(v) || (v as number) <= 0) {
      bad(field, v === undefined ? 'missing' : `expected a positive integer, got ${JSON.stringify(v)}`);
      return 1;
    }
    return v as number;
  };
  const num = (field: string, fallback?: number): number => {
    const v = hf[field] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) {
      bad(field, v === undefined ? 'missing' : `expected a positive number, got ${JSON.stringify(v)}`);
      return 1;
    }
    return v;
  };

  const modelType = String(hf.model_type);
  const archs = Array.isArray(hf.architectures) ? (hf.architectures as unknown[]).map(String) : [];
  if (!FAMILIES.has(modelType)) {
    bad('model_type', `"${modelType}" is not a family bonsai loads (known: ${[...FAMILIES].join(', ')})`);
  }
  const unknownArch = archs.filter((a) => !(a in FAMILY_BY_ARCH));
  if (unknownArch.length > 0) bad('architectures', `${unknownArch.join(', ')} not supported (known: ${Object.keys(FAMILY_BY_ARCH).join(', ')})`);
  const family = modelType as FamilyName;
  const neox = family === 'gpt_neox';

  const dModel = int('hidden_size');
  const nHeads = int('num_attention_heads');
  const nKvHeads = neox ? nHeads : int('num_key_value_heads', nHeads);
  if (nHeads % nKvHeads !== 0) bad('num_key_value_heads', `${nKvHeads} does not divide num_attention_heads ${nHeads}`);
  const dHead = hf.head_dim === undefined || hf.head_dim === null ? dModel / nHeads : int('head_dim');
  if (!Number.isInteger(dHead)) bad('hidden_size', `${dModel} is not a multiple of num_attention_heads ${nHeads} and head_dim is not given`);
  const maxPositions = int('max_position_embeddings');
  const nCtx = contextLength ?? maxPositions;
  if (nCtx > maxPositions) bad('max_position_embeddings', `${maxPositions} is less than the requested context of ${nCtx} tokens`);

  const act = String(hf.hidden_act ?? hf.hidden_activation ?? '');
  const wantAct = neox ? 'gelu' : 'silu';
  if (act !== wantAct) bad('hidden_act', `"${act}" not supported for ${family} (bonsai implements "${wantAct}")`);
  if (hf.attention_bias === true && !neox && family !== 'qwen2') bad('attention_bias', 'true is not supported for this family');
  if (hf.mlp_bias === true) bad('mlp_bias', 'true is not supported');
  if (neox && hf.use_parallel_residual === false) bad('use_parallel_residual', 'false is not supported');
  const window = hf.sliding_window;
  const windowOn = family === 'mistral' ? window !== null && window !== undefined : hf.use_sliding_window === true;
  if (windowOn && typeof window === 'number' && window < nCtx) {
    bad('sliding_window', `${window} is smaller than the context of ${nCtx} tokens bonsai would use; sliding-window attention is not implemented (ask for a context of at most ${window})`);
  }

  // Newer transformers write RoPE settings into one `rope_parameters` object (rope_theta,
  // rope_type and its factors, partial_rotary_factor); older configs use the top-level fields.
  const ropeParams = (typeof hf.rope_parameters === 'object' && hf.rope_parameters !== null ? hf.rope_parameters : {}) as Json;
  const pick = (field: string, fallback: number): number => {
    for (const [name, v] of [[`rope_parameters.${field}`, ropeParams[field]], [field, hf[field]]] as const) {
      if (v === undefined || v === null) continue;
      if (typeof v === 'number' && v > 0) return v;
      bad(name, `expected a positive number, got ${JSON.stringify(v)}`);
    }
    return fallback;
  };
  const rotaryPct = neox ? pick('partial_rotary_factor', num('rotary_pct', 1)) : 1;
  const rotaryDim = Math.floor(dHead * rotaryPct);
  if (rotaryDim % 2 !== 0) bad('rotary_pct', `rotates ${rotaryDim} dims of each head; must be even`);
  const theta = pick('rope_theta', neox ? num('rotary_emb_base', 10000) : 10000);
  const scalingSource = ropeParams.rope_type !== undefined ? ropeParams : hf.rope_scaling;
  const scaling = ropeScaling(scalingSource, (msg) => bad(scalingSource === ropeParams ? 'rope_parameters' : 'rope_scaling', msg));

  const config: DecoderConfig = {
    family,
    vocabSize: int('vocab_size'),
    dModel,
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKvHeads,
    dHead,
    dMlp: int('intermediate_size'),
    nCtx,
    norm: neox ? 'layer' : 'rms',
    normEps: neox ? num('layer_norm_eps', 1e-5) : num('rms_norm_eps', 1e-6),
    rope: { theta, rotaryDim, ...(scaling ? { scaling } : {}) },
    qkvBias: neox || family === 'qwen2',
    denseBias: neox,
    qkNorm: family === 'qwen3',
    parallelResidual: neox,
    mlp: neox ? 'gelu' : 'swiglu',
    // HF's default is tied, except GPT-NeoX whose config default is untied.
    tiedEmbeddings: hf.tie_word_embeddings === undefined ? !neox : hf.tie_word_embeddings === true,
    initStd: num('initializer_range', 0.02),
  };
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new BonsaiErrors(`${file}: ${problems.length} config fields bonsai cannot honour`, problems);
  return config;
}

function ropeScaling(value: unknown, bad: (msg: string) => void): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  const s = value as Json;
  const kind = s.rope_type ?? s.type;
  if (kind === 'default') return undefined;
  const factor = s.factor;
  if (typeof factor !== 'number' || !(factor > 0)) {
    bad(`factor must be a positive number, got ${JSON.stringify(factor)}`);
    return undefined;
  }
  if (kind === 'linear') return { type: 'linear', factor };
  if (kind === 'llama3') {
    const need = ['low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'].filter((k) => typeof s[k] !== 'number');
    if (need.length > 0) {
      bad(`type llama3 needs ${need.join(', ')}`);
      return undefined;
    }
    return {
      type: 'llama3',
      factor,
      lowFreqFactor: s.low_freq_factor as number,
      highFreqFactor: s.high_freq_factor as number,
      originalMaxPositions: s.original_max_position_embeddings as number,
    };
  }
  bad(`type ${JSON.stringify(kind)} not supported (bonsai implements linear and llama3)`);
  return undefined;
}

/** A from-scratch family model as the recipe's `model.init.config` gives it (snake_case, defaults filled by its schema). */
export interface FamilyRecipeConfig {
  family: FamilyName;
  vocab_size: number;
  d_model: number;
  n_layers: number;
  n_heads: number;
  n_kv_heads?: number;
  head_dim?: number;
  d_mlp: number;
  n_ctx: number;
  tied_embeddings: boolean;
  layer_norm_eps: number;
  init_std: number;
  rope_theta?: number;
  rotary_pct?: number;
}

/**
 * The DecoderConfig of a fresh family model: written as the config.json a Hugging Face
 * model of that family would have and read through decoderConfigFromHf, so a model trained
 * from scratch has exactly the semantics (and, saved, the config.json) of a loaded one.
 */
export function familyConfigFromRecipe(c: FamilyRecipeConfig, where = 'model.init.config'): DecoderConfig {
  return decoderConfigFromHf(hfConfigForRecipe(c), where);
}

/** The Hugging Face config.json of a from-scratch family model. */
export function hfConfigForRecipe(c: FamilyRecipeConfig): Record<string, unknown> {
  const neox = c.family === 'gpt_neox';
  const arch = architectureOf(c.family);
  return {
    architectures: [arch],
    model_type: c.family,
    vocab_size: c.vocab_size,
    hidden_size: c.d_model,
    num_hidden_layers: c.n_layers,
    num_attention_heads: c.n_heads,
    ...(neox ? {} : { num_key_value_heads: c.n_kv_heads ?? c.n_heads }),
    ...(neox ? {} : { head_dim: c.head_dim ?? c.d_model / c.n_heads }),
    intermediate_size: c.d_mlp,
    max_position_embeddings: c.n_ctx,
    hidden_act: neox ? 'gelu' : 'silu',
    ...(neox ? { layer_norm_eps: c.layer_norm_eps, rotary_pct: c.rotary_pct ?? 1, rotary_emb_base: c.rope_theta ?? 10000, use_parallel_residual: true } : { rms_norm_eps: c.layer_norm_eps, rope_theta: c.rope_theta ?? 10000 }),
    tie_word_embeddings: c.tied_embeddings,
    initializer_range: c.init_std,
  };
}
