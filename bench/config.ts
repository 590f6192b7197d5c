/**
 * The reference training run both sides of the bench perform: a byte-level GPT-2-style
 * model, AdamW, random tokens from a fixed seed, a fixed number of steps. Shared by
 * bench/run.ts, bench/child.ts and (as JSON) bench/torch_reference.py.
 */
import type { ModelConfig } from '../src/models/index.ts';

export interface BenchConfig
  // The model's own shape fields (tiedEmbeddings: logits = x·W_Eᵀ; the torch side matches).
  extends Pick<ModelConfig, 'vocabSize' | 'dModel' | 'nLayers' | 'nHeads' | 'dMlp' | 'nCtx' | 'tiedEmbeddings'> {
  batchSize: number;
  warmup: number;
  steps: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export const REFERENCE: BenchConfig = {
  vocabSize: 256,
  dModel: 128,
  nLayers: 2,
  nHeads: 4,
  dMlp: 512,
  nCtx: 64,
  tiedEmbeddings: true,
  batchSize: 16,
  warmup: 10,
  steps: 40,
  lr: 1e-3,
  weightDecay: 0.01,
  seed: 0,
};

/**
 * A GPT-2-small-shaped model (124M parameters at GPT-2's vocabulary), for GPU backends:
 * `npm run bench -- --shape gpt2-small --backends webgpu,wasm`. On CPU backends a step
 * takes minutes; use few steps.
 */
export const GPT2_SMALL: BenchConfig = {
  ...REFERENCE,
  vocabSize: 50257,
  dModel: 768,
  nLayers: 12,
  nHeads: 12,
  dMlp: 3072,
  nCtx: 256,
  batchSize: 8,
  warmup: 3,
  steps: 10,
};

/** A software adapter (lavapipe) runs a step ~10x slower than wasm: it gets this many steps. */
export const SOFTWARE_STEPS = { warmup: 2, steps: 5 };

/** What one backend's run reports (child → parent, one JSON line). */
export interface BackendResult {
  backend: string;
  /** Set when the backend could not be loaded; nothing else is then. */
  skipped?: string;
  describe?: string;
  /** webgpu: the adapter, e.g. "NVIDIA ampere (NVIDIA GeForce RTX 3090)" or "software: llvmpipe …". */
  adapter?: string;
  threads?: number;
  /** What ran the products (wasm: "OpenBLAS 0.3.21 (libopenblas.so.0)" or "XNNPACK"). */
  products?: string;
  steps?: number;
  /** Every timed step's wall time, in order. */
  stepMs?: number[];
  stepMsMedian?: number;
  stepMsMin?: number;
  /** Mean of the middle 60% of step times (trimmedMean): steadier than one median on a shared machine. */
  stepMsTrimmed?: number;
  /** CPU time per step, all threads (less sensitive than wall time to other processes). */
  cpuMsMedian?: number;
  tokensPerSec?: number;
  /** Largest tf.memory().numBytes seen between steps, and tf.profile's peak within a step. */
  tensorBytesMax?: number;
  peakBytesInStep?: number;
  rssMax?: number;
  /** numTensors after each timed step minus after the step before; all must be 0. */
  tensorGrowth?: number[];
  finalLoss?: number;
  /** Default backend only: where a step's time goes. */
  breakdown?: { forwardMs: number; backwardMs: number; optimizerMs: number; kernels: { name: string; ms: number; calls: number }[] };
}

/** Parses `--key value` / `--flag` arguments. */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[a.slice(2)] = next;
      i++;
    } else out[a.slice(2)] = 'true';
  }
  return out;
}

/**
 * Mean of the middle of a list: the fastest and slowest `cut` fraction are dropped. Other
 * processes only ever slow a step, so the slow tail is noise; the fast tail is dropped too
 * so that one lucky step cannot carry the figure either.
 */
export function trimmedMean(xs: number[], cut = 0.2): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length * cut);
  const mid = s.slice(k, s.length - k);
  return mid.length ? mid.reduce((a, b) => a + b, 0) / mid.length : NaN;
}

/** Median of a list of numbers (not mutated). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : NaN;
}
