import type { Rng } from '../util/rng.ts';

/** How the next token is chosen. temperature 0 means greedy. */
export interface SamplingOptions {
  temperature?: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (nucleus sampling). */
  topP?: number;
}

/**
 * Picks a token from one row of logits [V]. Done in JS on purpose: one row per sequence
 * per step is tiny, and a seeded Rng makes sampling reproducible on every backend.
 */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng): number {
  const temperature = opts.temperature ?? 1;
  if (temperature <= 0) return argmax(logits);
  const V = logits.length;
  let order = Array.from({ length: V }, (_, i) => i);
  const scaled = new Float64Array(V);
  for (let i = 0; i < V; i++) scaled[i] = logits[i]! / temperature;
  order.sort((a, b) => scaled[b]! - scaled[a]!);
  if (opts.topK !== undefined && opts.topK > 0) order = order.slice(0, opts.topK);
  const max = scaled[order[0]!]!;
  let probs = order.map((i) => Math.exp(scaled[i]! - max));
  let total = probs.reduce((a, b) => a + b, 0);
  if (opts.topP !== undefined && opts.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length && acc < opts.topP * total) acc += probs[keep++]!;
    order = order.slice(0, Math.max(1, keep));
    probs = probs.slice(0, Math.max(1, keep));
    total = probs.reduce((a, b) => a + b, 0);
  }
  let u = rng.next() * total;
  for (let j = 0; j < probs.length; j++) {
    u -= probs[j]!;
    if (u <= 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
