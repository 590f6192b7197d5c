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
 * The draw walks the tokens from the most likely down (ties by id), so which token a given
 * draw picks is fixed by the ranking alone.
 */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng): number {
  const temperature = opts.temperature ?? 1;
  if (temperature <= 0) return argmax(logits);
  const V = logits.length;
  const scaled = new Float64Array(V);
  for (let i = 0; i < V; i++) scaled[i] = logits[i]! / temperature;
  let order = descendingOrder(logits);
  if (opts.topK !== undefined && opts.topK > 0) order = order.subarray(0, opts.topK);
  const max = scaled[order[0]!]!;
  let probs = new Float64Array(order.length);
  let total = 0;
  for (let j = 0; j < order.length; j++) total += probs[j] = Math.exp(scaled[order[j]!]! - max);
  if (opts.topP !== undefined && opts.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length && acc < opts.topP * total) acc += probs[keep++]!;
    order = order.subarray(0, Math.max(1, keep));
    probs = probs.subarray(0, Math.max(1, keep));
    total = 0;
    for (const p of probs) total += p;
  }
  let u = rng.next() * total;
  for (let j = 0; j < probs.length; j++) {
    u -= probs[j]!;
    if (u <= 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

/**
 * Token ids by descending logit, ties by ascending id: what a stable comparison sort gives,
 * in linear time. Each float32 logit's bits map to an unsigned integer in the same order
 * (negatives' bits flipped, positives' sign bit set; −0 as +0); a stable least-significant-
 * digit radix sort on that key, reversed, keeps equal logits in id order. A comparator sort
 * of 49,152 ids took tens of milliseconds per sampled token; this takes about one.
 */
function descendingOrder(logits: Float32Array): Uint32Array {
  const V = logits.length;
  const bits = new Uint32Array(logits.buffer, logits.byteOffset, V);
  const key = new Uint32Array(V);
  for (let i = 0; i < V; i++) {
    const b = bits[i] === 0x80000000 ? 0 : bits[i]!;
    key[i] = 0xffffffff - (b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0); // ascending key = descending logit
  }
  // Keys travel with their ids, so each pass reads both arrays in order.
  let ids = new Uint32Array(V);
  for (let i = 0; i < V; i++) ids[i] = i;
  let [idsNext, keyNext] = [new Uint32Array(V), new Uint32Array(V)];
  let keys = key;
  const count = new Uint32Array(257);
  for (let shift = 0; shift < 32; shift += 8) {
    count.fill(0);
    for (let j = 0; j < V; j++) count[((keys[j]! >>> shift) & 0xff) + 1]!++;
    for (let d = 0; d < 256; d++) count[d + 1]! += count[d]!;
    for (let j = 0; j < V; j++) {
      const at = count[(keys[j]! >>> shift) & 0xff]!++;
      idsNext[at] = ids[j]!;
      keyNext[at] = keys[j]!;
    }
    [ids, idsNext, keys, keyNext] = [idsNext, ids, keyNext, keys];
  }
  return ids;
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
