/**
 * A train step's peak memory, estimated before the first step from the shapes alone.
 * Every term is float32 (4 bytes); N = batch_size · seq_len tokens per micro-batch.
 *
 *   state       = P (weights) + P_t·(1 + 2) (gradients, AdamW's m and v)
 *                 + P_t more when grad_accum > 1 (the running sum beside a micro-batch's)
 *                 + K: the backend's packed copies of the weights it multiplies by (tfjs-wasm's
 *                   XNNPACK keeps one per right-hand matrix: every linear layer's weight, and a
 *                   frozen head's); 0 where products run elsewhere
 *   per block   a_saved = 8·D + 3·M + H·T (+ 2·KV·dh under grouped-query attention) + Σr/L + E
 *                         floats per token kept for the backward pass: the block's input and
 *                         mid-residual, the norms' outputs, q/k/v (repeated to H heads), the
 *                         attention pattern's row, z, the MLP's pre-activation, gate/σ and
 *                         output, LoRA's x·Aᵀ (Σr: the adapters' ranks over all layers), and the
 *                         inputs of the norms past ln1/ln2 (E wide: post-norms, q/k norms)
 *               a_fwd   = 12·D + 3·M + H·T + 2 (+ 2·M gated MLP, + 2·(D + KV·dh) RoPE, + 2·D
 *                         grouped-query, + 2·E): one block's own intermediates while it runs, forward
 *                         or backward (each block is its own scope, and the backward frees each
 *                         op's saved tensors and gradients as it goes: backend/freeing-grads.ts)
 *               recompute: true keeps D per block (its input) and re-runs one block at a time
 *   head        frozen (LoRA's base, a frozen copy: backend/vocab-end.ts): 2·n·V + N·D (one
 *                         chunk's logits and softmax; the kept hidden-state gradient)
 *               trained: 5·n·V + 3·V·D (logits, softmax, one-hot and two gradient-sized
 *                         temporaries of a chunk; the head's transposed copy, its gradient
 *                         and the backend's packed copy), n = min(N, ce_chunk rows)
 *   peak        = state + N·L·a_saved + max(N·a_fwd, head)
 *     recompute = state + N·L·D + max(N·a_fwd, head, N·(a_saved + a_fwd))
 *
 * D = d_model, M = d_mlp, H = heads, T = seq_len, L = layers, V = vocabulary, P = all
 * parameters, P_t = trainable ones. a_saved is counted from the tape (what each op keeps,
 * one buffer per tensor's data) and checked against the wasm heap's measured high-water mark
 * and live tensor bytes (bench/lora-memory.ts, bench/memory-peak.ts; the table in
 * docs/memory.md). The wasm allocator's own slack (the heap grows up to 20% past a request,
 * and fragments) is not in the formula; the budget check leaves headroom for it
 * (memory-budget.ts).
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
  /** Per token and block, the width of the norms past ln1/ln2 (norms after the sublayers, q/k norms): each keeps its input for the backward. */
  extraNormWidth?: number;
  /** LoRA: the sum of the adapters' ranks over every adapted layer (each keeps x·Aᵀ [N, r] for its backward). */
  loraRanks?: number;
  /** The head does not train (LoRA's base, a frozen copy): the vocabulary end keeps no head gradient. */
  frozenHead?: boolean;
  /** Elements of the weights the backend keeps a packed copy of (tfjs-wasm's XNNPACK: each right-hand matrix). */
  packedWeights?: number;
}

/** A step's estimated peak, in bytes, by part. */
export interface MemoryEstimate {
  weights: number;
  /** The backend's packed copies of the weights (part of nothing else). */
  packed: number;
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
  const { dModel: D, dMlp: M, nHeads: H, nLayers: L, vocabSize: V } = s;
  const kvHeads = s.nKvHeads ?? H;
  const kvWidth = kvHeads * (s.dHead ?? D / H);
  const grouped = kvHeads < H;
  const norms = s.extraNormWidth ?? 0; // each extra norm keeps its input; its output lives in the forward pass
  const aSaved = 8 * D + 3 * M + H * s.seqLen + (grouped ? 2 * kvWidth : 0) + (s.loraRanks ?? 0) / L + norms;
  const aFwd = 12 * D + 3 * M + H * s.seqLen + 2 + (s.gatedMlp ? 2 * M : 0) + (s.rope ? 2 * (D + kvWidth) : 0) + (grouped ? 2 * D : 0) + 2 * norms;
  const chunk = Math.min(N, s.ceChunkRows);
  const head = s.frozenHead ? 2 * chunk * V + N * D : 5 * chunk * V + 3 * V * D;
  const kept = s.recompute ? N * L * D : N * L * aSaved;
  const transient = Math.max(N * aFwd, head, s.recompute ? N * (aSaved + aFwd) : 0);
  const weights = s.params;
  const packed = s.packedWeights ?? 0;
  const gradients = s.trainableParams * (s.gradAccum > 1 ? 2 : 1);
  const optimizer = 2 * s.trainableParams;
  const headPeak = transient === head;
  return {
    weights: weights * F32,
    packed: packed * F32,
    gradients: gradients * F32,
    optimizer: optimizer * F32,
    activations: (kept + (headPeak ? 0 : transient)) * F32,
    logits: (headPeak ? head : 0) * F32,
    peak: (weights + packed + gradients + optimizer + kept + transient) * F32,
  };
}

/** Bytes as "1.23 GB" (decimal units, as the README's numbers). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}
