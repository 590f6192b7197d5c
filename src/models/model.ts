/**
 * The model interface the rest of bonsai codes against (trainer, probes, rewards, gradients,
 * freezing, interventions, server, generation, diff). Every architecture implements it: GPT-2
 * (transformer.ts) and each Hugging Face family (families/). Build one through registry.ts
 * (`createModel`, `modelFromValues`), never by naming a class, so every tool runs on every family.
 */
import type * as tf from '@tensorflow/tfjs';
import type { HeadWeights } from '../backend/vocab-end.ts';
import type { ActivationCache, ForwardOptions } from './hooks.ts';
import type { LMConfig } from './lm-config.ts';

export type { LMConfig, ModelFamily } from './lm-config.ts';

export interface ForwardResult {
  logits: tf.Tensor3D; // [B, T, V]
  /** Activations requested with `cache`; the caller disposes it. */
  cache: ActivationCache;
}

export interface HiddenResult {
  /** [B, T, D]: the output of ln_final, after the ln_final.hook_normalized hook ran. */
  hidden: tf.Tensor3D;
  /** Activations requested with `cache`; the caller disposes it. */
  cache: ActivationCache;
}

/** Replaces a parameter inside a forward pass (LoRA: W + scale·A·B); see `CausalLM.weightTransform`. */
export type WeightTransform = (path: string, w: tf.Variable) => tf.Tensor;

/**
 * Runs a linear layer in place of x·W (+ b) inside a forward pass (LoRA: x·W + s·(x·Aᵀ)·Bᵀ
 * with W frozen, never forming W + ΔW); see `CausalLM.linearTransform`. x [N, in], w the
 * variable at `path` [in, out], b [out] → [N, out]; undefined: the layer runs plainly.
 */
export type LinearTransform = (path: string, x: tf.Tensor2D, w: tf.Variable, b?: tf.Tensor1D) => tf.Tensor2D | undefined;

/** A causal language model with TransformerLens hook points and parameters by path. */
export interface CausalLM {
  /** Family-neutral dims (vocabSize, dModel, nLayers, nHeads, nKvHeads, dHead, dMlp, nCtx, tiedEmbeddings) and the family's own fields. */
  readonly config: LMConfig;
  /** Parameters by path (`embed.W_E`, `blocks.{i}.attn.W_Q|W_K|W_V|W_O`, `blocks.{i}.mlp.W_in|W_out|W_gate`, …); layout.ts lists them. */
  readonly params: Map<string, tf.Variable>;
  /** True for a frozen copy: no variable is trainable and optimizers refuse it. */
  readonly frozen: boolean;
  /**
   * When set, every parameter read inside forward/forwardHidden/unembed goes through it (the
   * returned tensor replaces the variable; it is created inside the forward's tidy). Unset:
   * the variables are read directly. valuesSync() and fingerprint() always give the base weights.
   */
  weightTransform?: WeightTransform;
  /**
   * When set, every linear layer of a forward (the blocks' projections, an untied output head)
   * runs through it, given the input and the raw variable; where it answers, `weightTransform`
   * is not consulted for that weight. LoRA sets both: this one for the layers, the other for
   * any other read.
   */
  linearTransform?: LinearTransform;
  /** Every hook point name, in forward order. */
  hookPoints(): string[];
  /** ids [B, T] int32, T ≤ nCtx → logits [B, T, V]; differentiable through parameters and hook edits. */
  forward(ids: tf.Tensor2D, opts?: ForwardOptions): ForwardResult;
  /** As forward, stopping at the final norm: `forward(ids).logits` = unembed(hidden as [B·T, D]) as [B, T, V]. */
  forwardHidden(ids: tf.Tensor2D, opts?: ForwardOptions): HiddenResult;
  /** hidden [N, D] → logits [N, V]. */
  unembed(hidden: tf.Tensor2D): tf.Tensor2D;
  /**
   * The output head as `unembed` reads it (through `weightTransform`): logits = hidden·Wᵀ for a
   * tied [V, D] embedding, hidden·W + b for an untied [D, V] one. The vocabulary end of a head
   * that does not train (backend/vocab-end.ts) runs from it. Undefined where the head is more
   * than that product (e.g. soft-capped logits): `unembed` is then the only way in.
   */
  outputHead?(): HeadWeights | undefined;
  /**
   * As unembed, for generation: the few rows of a decoding step (e.g. each sequence's last
   * position). Equal to unembed up to float rounding (a tied head multiplies without copying
   * the embedding each call); not for training (the tape is not its concern).
   */
  decodeLogits(hidden: tf.Tensor2D): tf.Tensor2D;
  /** A frozen copy with its own variables and a cached fingerprint. */
  frozenCopy(): CausalLM;
  /** sha256 over paths, shapes and bytes of the weights. */
  fingerprint(): string;
  /** Parameter values copied to JS, by path. */
  valuesSync(): Map<string, Float32Array>;
  /** Number of scalar parameters. */
  numParams(): number;
  /** Frees every variable of this model. */
  dispose(): void;
}
