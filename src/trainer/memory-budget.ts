import os from 'node:os';
import { BonsaiError } from '../errors.ts';
import { estimateStepMemory, formatBytes, type MemoryEstimate, type StepShape } from './memory-estimate.ts';

/** wasm32's linear memory maximum, which tfjs-backend-wasm asks for: 4 GiB. */
const WASM_HEAP_MAX = 2 ** 32;

/**
 * The share of the limit an estimate may use: the wasm allocator grows its heap up to 20%
 * past a request and fragments, so a step estimated at the full limit would fail
 * (docs/memory.md).
 */
export const HEADROOM = 0.8;

/** What a backend can hold, or undefined where bonsai cannot tell (webgpu). */
export function backendMemoryLimit(backend: string): { bytes: number; what: string } | undefined {
  if (backend === 'wasm') return { bytes: WASM_HEAP_MAX, what: 'the wasm heap maximum' };
  if (backend === 'cpu' || backend === 'tensorflow') return { bytes: os.totalmem(), what: "this machine's memory" };
  return undefined;
}

/** Recipe field names the message speaks in (where each setting lives). */
export interface SettingNames {
  batchSize: string;
  /** Absent where the trainer has no accumulation (RL): a smaller batch is then suggested alone. */
  gradAccum?: string;
  seqLen: string;
  /** Rows per unit of `batchSize` (RL: group_size rollouts per prompt); default 1. */
  rowsPerItem?: number;
  /** What the sequence setting leaves out of the step's sequence (RL: the longest prompt, before max_new_tokens); default 0. */
  seqOffset?: number;
}

const SFT_SETTINGS: SettingNames = { batchSize: 'trainer.batch_size', gradAccum: 'trainer.grad_accum', seqLen: 'data.seq_len' };

/** An RL step: batch_size prompts × group_size rollouts, each the longest prompt + max_new_tokens. */
export function rlSettings(groupSize: number, longestPrompt: number): SettingNames {
  return { batchSize: 'trainer.batch_size', seqLen: 'trainer.max_new_tokens', rowsPerItem: groupSize, seqOffset: longestPrompt };
}

/** LoRA rank the suggestion assumes (on every linear layer of every block). */
const LORA_RANK = 16;

/**
 * Throws before the first step when the step's estimated peak exceeds `limit`·HEADROOM,
 * with the settings that would fit, each computed: the largest batch size (with grad_accum
 * raised to keep the tokens per step), recomputation, the longest sequence, LoRA, and a
 * smaller cross-entropy chunk. Returns the estimate when it fits.
 */
export function checkStepFits(shape: StepShape, limit: { bytes: number; what: string }, names: SettingNames = SFT_SETTINGS): MemoryEstimate {
  const est = estimateStepMemory(shape);
  const allowed = limit.bytes * HEADROOM;
  if (est.peak <= allowed) return est;
  const fits = (s: StepShape) => estimateStepMemory(s).peak <= allowed;
  const need = (s: StepShape) => formatBytes(estimateStepMemory(s).peak);
  const options: string[] = [];
  // A smaller batch with grad_accum raised to keep (at least) the sequences per step; without
  // accumulation (RL), a smaller batch of whole groups alone.
  const per = names.rowsPerItem ?? 1;
  const sequences = shape.batchSize * shape.gradAccum;
  const smaller = (s: StepShape, b: number): StepShape =>
    names.gradAccum ? { ...s, batchSize: b, gradAccum: Math.ceil(sequences / b) } : { ...s, batchSize: b * per };
  const said = (s: StepShape, b: number) => `${names.batchSize}: ${b}${names.gradAccum ? ` with ${names.gradAccum}: ${s.gradAccum}` : ''}`;

  // The largest batch that fits, then the smallest with that grad_accum (16 → 8 × 2, not 11 × 2).
  const even = (b: number) => (b && names.gradAccum ? Math.ceil(sequences / Math.ceil(sequences / b)) : b);
  const maxItems = names.gradAccum ? shape.batchSize - 1 : Math.ceil(shape.batchSize / per) - 1;
  const batch = even(largest(maxItems, (b) => fits(smaller(shape, b))));
  if (batch) {
    const s = smaller(shape, batch);
    const perStep = names.gradAccum ? `${batch * s.gradAccum} sequences per step, was ${sequences}` : `${batch * per} rows per step, was ${shape.batchSize}`;
    options.push(`${said(s, batch)} (${perStep}; about ${need(s)})`);
  }
  if (!shape.recompute) {
    const re = { ...shape, recompute: true };
    if (fits(re)) options.push(`memory.recompute: true (about ${need(re)}, for about one more forward pass of compute)`);
    else {
      const b = even(largest(maxItems, (x) => fits(smaller(re, x))));
      if (b) options.push(`memory.recompute: true with ${said(smaller(re, b), b)} (about ${need(smaller(re, b))})`);
    }
  }
  const offset = names.seqOffset ?? 0;
  const seq = largest(shape.seqLen - 1, (t) => fits({ ...shape, seqLen: t }));
  if (seq > offset) options.push(`${names.seqLen}: ${seq - offset} (about ${need({ ...shape, seqLen: seq })})`);
  const D = shape.dModel;
  const lora = { ...shape, trainableParams: loraParams(shape), adaptedWeights: shape.nLayers * (4 * D * D + (shape.gatedMlp ? 3 : 2) * D * shape.dMlp) };
  if (fits(lora)) options.push(`LoRA adapters (the lora: section) with r = ${LORA_RANK} on every linear layer: only ${lora.trainableParams.toLocaleString('en-US')} parameters train (about ${need(lora)})`);
  const chunk = { ...shape, ceChunkRows: Math.min(shape.ceChunkRows, 64) };
  if (chunk.ceChunkRows < shape.ceChunkRows && fits(chunk)) options.push(`memory.ce_chunk: 64 (about ${need(chunk)})`);

  const parts = `weights ${formatBytes(est.weights)}, gradients ${formatBytes(est.gradients)}, optimizer state ${formatBytes(est.optimizer)}, activations ${formatBytes(est.activations)}, logits chunk ${formatBytes(est.logits)}`;
  const fix = options.length
    ? `settings that fit:\n${options.map((o) => `  - ${o}`).join('\n')}`
    : 'no single setting fits: combine the ones above with a smaller model, or another backend';
  throw new BonsaiError(
    `a train step needs about ${formatBytes(est.peak)} (${parts}); ${limit.what} is ${formatBytes(limit.bytes)}, of which bonsai plans ${formatBytes(allowed)} ` +
      `(batch ${shape.batchSize} × ${shape.seqLen} tokens, ${shape.params.toLocaleString('en-US')} parameters). Stopped before the first step; ${fix}`,
    { hint: 'memory.budget_mb sets the limit by hand; docs/memory.md explains the estimate' },
  );
}

/** The largest n in [1, max] with ok(n) (ok is monotone: smaller n needs less), or 0. */
function largest(max: number, ok: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Trainable parameters of rank-16 LoRA on Q, K, V, O, MLP in and out of every block. */
function loraParams(s: StepShape): number {
  const D = s.dModel;
  return s.nLayers * LORA_RANK * (4 * (D + D) + 2 * (D + s.dMlp));
}
