/**
 * Floating-point operations of a forward pass, counted from the shapes (no profiler): what
 * the cost comparisons (bench/probe_vs_judge.ts) report per sequence. The count is the usual
 * one for transformers: a multiply-add is 2 FLOPs, and only the matrix products are counted.
 * Layer norms, GELU, softmax, biases, residual adds and the embedding gather are left out;
 * at bonsai's sizes they are a few percent of the total, and the same share on both sides of
 * a comparison.
 *
 * Per block, for T tokens of width D, MLP width M:
 *   Q, K, V and output projections   2·T·D·(3D) + 2·T·D·D = 8·T·D²
 *   attention scores Q·Kᵀ and A·V      2·T²·D + 2·T²·D    = 4·T²·D   (the full T×T pattern:
 *                                                                     the causal mask is applied
 *                                                                     after the product, as here)
 *   MLP in and out                     2·T·D·M + 2·T·M·D  = 4·T·D·M
 * Unembedding: 2·T·D·V. A probe head on N feature rows of width d: logistic 2·N·d; MLP with
 * hidden width H 2·N·d·H + 2·N·H.
 */
import type { LMConfig as ModelConfig } from './lm-config.ts';
import type { ProbeKindSpec } from '../probes/probe.ts';

/** FLOPs of one block on a sequence of T tokens. */
export function blockFlops(c: Pick<ModelConfig, 'dModel' | 'dMlp'>, T: number): number {
  const D = c.dModel;
  return 8 * T * D * D + 4 * T * T * D + 4 * T * D * c.dMlp;
}

/** FLOPs of the unembedding (logits over the vocabulary) at T positions. */
export function unembedFlops(c: Pick<ModelConfig, 'dModel' | 'vocabSize'>, T: number): number {
  return 2 * T * c.dModel * c.vocabSize;
}

/**
 * FLOPs of `HookedTransformer.forward` on one sequence of T tokens: every block, and the
 * unembedding at `logitPositions` positions (T: what forward computes today, logits at every
 * position; 1: a judge that only needs the last position's logits; 0: a pass that stops at a
 * hook and never unembeds).
 */
export function forwardFlops(c: Pick<ModelConfig, 'dModel' | 'dMlp' | 'nLayers' | 'vocabSize'>, T: number, logitPositions = T): number {
  return c.nLayers * blockFlops(c, T) + unembedFlops(c, logitPositions);
}

/** FLOPs of a probe head on `rows` feature rows of width d. */
export function probeHeadFlops(kind: ProbeKindSpec, d: number, rows: number): number {
  return kind.kind === 'logistic' ? 2 * rows * d : 2 * rows * d * kind.hidden + 2 * rows * kind.hidden;
}
