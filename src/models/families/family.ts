/**
 * What a model family is to bonsai: a module (one file beside this one) holding its Hugging
 * Face names, its config.json reader and writer, and the flags that pick the shared decoder's
 * pieces (`DecoderConfig`). The decoder (../decoder.ts), the layout (../layout.ts), checkpoint
 * load/save (load.ts, save.ts), LoRA's PEFT names, K-FAC's sites and the memory estimate read
 * the flags; nothing outside models/ names a family. No tfjs here: recipes are checked from
 * config.json alone before a backend loads.
 */
import type { BonsaiError } from '../../errors.ts';
import type { Activation, HfFields } from './fields.ts';
import type { RopeSpec } from './rope.ts';

export type { Activation } from './fields.ts';
export type { RopeScaling, RopeSpec } from './rope.ts';

/**
 * A model's config: the family-neutral dims every tool reads, and the flags the shared decoder
 * builds the forward pass from. Every family's config is one of these.
 */
export interface DecoderConfig {
  family: string;
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads; kv head j serves query heads j·(nHeads/nKvHeads) … (j+1)·(nHeads/nKvHeads) − 1. */
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  /** Longest sequence forward() accepts. */
  nCtx: number;
  /** Unembedding shares the token embedding (logits = x·W_Eᵀ). */
  tiedEmbeddings: boolean;
  /** Std of the normal init of weight matrices when trained from scratch (HF `initializer_range`). */
  initStd: number;
  /** 'learned': pos_embed.W_pos [nCtx, D] added to the embedding (GPT-2); 'rope': rotary, inside attention. */
  positions: 'learned' | 'rope';
  /** The token embedding is multiplied by this (Gemma: √d_model in the weights' dtype; 1 elsewhere). */
  embedScale: number;
  norm: 'layer' | 'rms';
  normEps: number;
  /** RMSNorm scales by (1 + w) (Gemma), so its weights start at 0. */
  normPlusOne: boolean;
  /**
   * Where a block's norms sit. 'pre': ln1 before attention, ln2 before the MLP. 'post': ln1_post
   * after attention and ln2_post after the MLP, none before (OLMo 2). 'sandwich': all four (Gemma).
   */
  normPlacement: 'pre' | 'post' | 'sandwich';
  /** x + attn(ln1(x)) + mlp(ln2(x)) (GPT-NeoX) instead of two residual adds in turn. */
  parallelResidual: boolean;
  /** Biases on the q/k/v projections, on W_O, on the MLP's W_in/W_out, and on an untied unembedding. */
  bias: { qkv: boolean; out: boolean; mlp: boolean; unembed: boolean };
  /** RMSNorm on q and k before RoPE: per head over dh (Qwen3, Gemma 3), or over the whole projection (OLMo 2). */
  qkNorm: 'none' | 'head' | 'projection';
  /** gated: act(x·W_gate) · (x·W_in) (SwiGLU, GeGLU); else act(x·W_in + b_in). */
  mlp: { gated: boolean; act: Activation };
  /** RoPE of full-attention layers (of every layer when `localRope` is absent). Absent under learned positions. */
  rope?: RopeSpec;
  /** RoPE of sliding-window layers, when it differs (Gemma 3's rope_local_base_freq). */
  localRope?: RopeSpec;
  /** Attention scores are multiplied by this: 1/√dHead, or query_pre_attn_scalar^−0.5 (Gemma). */
  attnScale: number;
  /** Scores capped as cap·tanh(s / cap) before the mask (Gemma 2). */
  attnSoftcap?: number;
  /** Logits capped as cap·tanh(l / cap) (Gemma 2). */
  finalSoftcap?: number;
  /** Sliding-window attention: layer i attends to the last `size` positions only where layers[i]. */
  window?: { size: number; layers: boolean[] };
}

/**
 * One Hugging Face tensor and the bonsai parameters it holds. `linear`: an nn.Linear weight
 * [out, in], transposed to bonsai's [in, out]. `conv1d`: GPT-2's Conv1D weight, stored [in, out]
 * as bonsai does. `copy`: any other tensor, as is. `columns`: GPT-2's fused c_attn, [in, Σ out]
 * with the parts side by side (a bias is one row). `heads`: GPT-NeoX's fused query_key_value,
 * an nn.Linear whose outputs run head by head, each head's q|k|v together.
 */
export interface HfTensorSpec {
  /** Shape in the file. */
  shape: number[];
  kind: 'copy' | 'linear' | 'conv1d' | 'columns' | 'heads';
  /** Bonsai paths: one, or the parts of a fused tensor in order. */
  paths: string[];
}

/** A from-scratch model as the recipe's `model.init.config` gives it (snake_case, defaults filled). */
export interface FamilyRecipeConfig {
  family: string;
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
  sliding_window?: number;
}

/** Recipe fields past the common ones; a family lists those it reads. */
export type FamilyRecipeField = 'n_kv_heads' | 'head_dim' | 'rope_theta' | 'rotary_pct' | 'sliding_window';

/** A family module. Register it in index.ts. */
export interface Family {
  /** bonsai's name (`model.init.config.family`, a checkpoint's `family`). */
  readonly name: string;
  /** config.json's `model_type` and `architectures` values this module reads; the first are written. */
  readonly modelTypes: readonly string[];
  readonly architectures: readonly string[];
  /** One line for help texts: what the family computes. */
  readonly summary: string;
  /** config.json → the decoder's config (nCtx = the largest context it allows). Problems go to `f`; nothing throws. */
  readConfig(f: HfFields): Omit<DecoderConfig, 'family'>;
  /** config.json for a config of this family (inverse of readConfig). */
  writeConfig(c: DecoderConfig): Record<string, unknown>;
  /** config.json of a from-scratch model. */
  scratchConfig(r: FamilyRecipeConfig): Record<string, unknown>;
  /** The recipe fields past the common ones it reads. */
  readonly recipeFields: readonly FamilyRecipeField[];
  /** Every tensor a checkpoint of this config holds, by Hugging Face name. */
  tensors(c: DecoderConfig): Map<string, HfTensorSpec>;
  /** Tensors some checkpoints carry that hold no weights (buffers rebuilt at load). */
  readonly ignoredTensors?: readonly RegExp[];
  /** A prefix some files put before every name (GPT-2's `transformer.`), accepted and stripped. */
  readonly namePrefix?: string;
  /** The module path PEFT uses for a tensor (GPT2LMHeadModel nests the body under `transformer.`). */
  peftModule?(hfName: string): string;
  /** W_O and W_out start at initStd/√(2·nLayers) (GPT-2's init). */
  readonly scaledResidualInit?: boolean;
  /** config.json's torch_dtype changes the computation (Gemma's embedding scale): saving keeps the config's rather than the written dtype. */
  readonly dtypeSensitive?: boolean;
  /** The tokenizer a directory without tokenizer.json uses (GPT-2's BPE). */
  readonly builtinTokenizer?: 'gpt2';
  /** What is wrong with a config of this family past the dims every family checks (GPT-2: d_model = heads · d_head). */
  check?(c: DecoderConfig): string[];
  /** Why a model cannot be written in this family's Hugging Face layout, if it cannot. */
  saveProblem?(c: DecoderConfig, values: Map<string, Float32Array>): BonsaiError | undefined;
  /** A checkpoint's stored form, when it is not the config itself (GPT-2's, unchanged since before families). */
  stored?(c: DecoderConfig): Record<string, unknown>;
  fromStored?(raw: Record<string, unknown>, where: string): DecoderConfig;
}
