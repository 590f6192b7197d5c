/**
 * A train step's peak memory, estimated before the first step from the shapes alone.
 * Every term is float32 (4 bytes); N = batch_size · seq_len tokens per micro-batch.
 *
 *   state       = P (weights) + P_t·(1 + 2) (gradients, AdamW's m and v)
 *                 + P_t more when grad_accum > 1 (the running sum beside a micro-batch's)
 *   per block   a_fwd   = 12·D + 3·M + H·T + 2   floats per token alive at the end of the
 *                         forward (residuals, LayerNorm outputs, q/k/v, z, projections,
 *                         MLP pre/σ/post, one row of the attention pattern per head)
 *               a_saved = 8·D + 3·M + H·T + 2    of those kept for the backward pass
 *               + family terms in both (Llama-style blocks): gated MLP 2·M (the up
 *                 projection and the gate's sigmoid), RoPE 2·(D + KV·dh) (rotated halves
 *                 of q and k), grouped-query attention 2·D (keys and values repeated to H heads)
 *               recompute: true keeps D per block and re-runs one block at a time
 *   LoRA        A = base weights under adapters: each forward forms W + ΔW per target and
 *                         keeps it for the backward: A in all (A / L, one block's, with
 *                         recompute), and one block's gradient of it, A / L, in the backward
 *   logits      5 · n · V with n = min(N, ce_chunk rows): logits, softmax, one-hot and
 *                         two gradient-sized temporaries of one chunk
 *               + 3 · V · D: the unembedding's transposed copy (tied), its gradient before
 *                         transposing back, and the backend's packed copy of the matrix
 *   gradients   tfjs frees nothing during a backward pass: every intermediate gradient
 *   kept        (a_grad = 2.5·a_fwd per token and block: one per op output, calibrated on the
 *                         SmolLM2 shape's measured slope) and every adapted weight's
 *                         gradient (A) stay until it ends; under recompute, one block's
 *   peak        = state + max(forward end, loss + backward), where
 *       forward end     = N·L·a_fwd + A                (N·(L·D + a_fwd) + A / L with recompute)
 *       loss + backward = N·L·(a_saved + a_grad) + 2·A + logits + N·a_fwd
 *                         (recompute: N·(L·D + 2·a_fwd) + 2·A / L + logits)
 *
 * D = d_model, M = d_mlp, H = heads, T = seq_len, L = layers, V = vocabulary, P = all
 * parameters, P_t = trainable ones. Checked against the wasm heap's measured high-water
 * mark and live tensor bytes (bench/lora-memory.ts, bench/memory-peak.ts; the table in
 * docs/memory.md). The wasm allocator's own slack and XNNPACK's packed copies (the heap grows
 * up to 20% past a request) are not in the formula; the budget check leaves headroom for
 * them (memory-budget.ts).
 */

/** The shapes and settings a step's memory depends on. */
export interface StepShape {
  vocabSize: number;
  dModel: number;
  dMlp: number;
  nHeads: number;
  nLayers: number;
  /** All parameters (weights held). */
  params: number;
  /** Parameters that get gradients and optimizer state. */
  trainableParams: number;
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  /** Rows per cross-entropy chunk (ceChunkRows). */
  ceChunkRows: number;
  recompute: boolean;
  /** Key/value heads (grouped-query attention when fewer than nHeads) and their width; default: GPT-2's. */
  nKvHeads?: number;
  dHead?: number;
  /** Llama-style blocks: gated MLP (SwiGLU) and rotary embeddings. Default false (GPT-2). */
  gatedMlp?: boolean;
  rope?: boolean;
  /** Per token and block, the width of the norms past ln1/ln2 (norms after the sublayers, q/k norms); each keeps its input and output. */
  extraNormWidth?: number;
  /** Elements of the base weights that carry LoRA adapters (each is re-formed as W + ΔW per forward). */
  adaptedWeights?: number;
}

/** A step's estimated peak, in bytes, by part. */
export interface MemoryEstimate {
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  logits: number;
  /** Peak bytes of one step: state plus the larger of the forward and backward phases. */
  peak: number;
}

const F32 = 4;

/** The estimate of one step's peak memory (formula above). */
export function estimateStepMemory(s: StepShape): MemoryEstimate {
  const N = s.batchSize * s.seqLen;
  const { dModel: D, dMlp: M, nHeads: H, nLayers: L } = s;
  const kvWidth = (s.nKvHeads ?? H) * (s.dHead ?? D / H);
  const family = (s.gatedMlp ? 2 * M : 0) + (s.rope ? 2 * (D + kvWidth) : 0) + ((s.nKvHeads ?? H) < H ? 2 * D : 0) + 2 * (s.extraNormWidth ?? 0);
  const aFwd = 12 * D + 3 * M + H * s.seqLen + 2 + family;
  const aSaved = 8 * D + 3 * M + H * s.seqLen + 2 + family;
  const chunk = Math.min(N, s.ceChunkRows);
  const logits = 5 * chunk * s.vocabSize + 3 * s.vocabSize * D;
  const adapted = s.adaptedWeights ?? 0;
  const perBlock = adapted / L;
  const forwardEnd = s.recompute ? N * (L * D + aFwd) + perBlock : N * L * aFwd + adapted;
  const aGrad = 2.5 * aFwd;
  const held = s.recompute ? N * L * D + perBlock : N * L * (aSaved + aGrad) + adapted;
  const backward = held + logits + (s.recompute ? 2 : 1) * N * aFwd + (s.recompute ? perBlock : adapted);
  const weights = s.params;
  const gradients = s.trainableParams * (s.gradAccum > 1 ? 2 : 1);
  const optimizer = 2 * s.trainableParams;
  const phase = Math.max(forwardEnd, backward);
  return {
    weights: weights * F32,
    gradients: gradients * F32,
    optimizer: optimizer * F32,
    activations: (phase === forwardEnd ? forwardEnd : backward - logits) * F32,
    logits: (phase === forwardEnd ? 0 : logits) * F32,
    peak: (weights + gradients + optimizer + phase) * F32,
  };
}

/** Bytes as "1.23 GB" (decimal units, as the README's numbers). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}
