/**
 * A per-layer key/value cache for incremental decoding, shared by every family (the attention
 * core in attention.ts is the one place that reads and extends it).
 *
 * Design: per-row positions with a key-validity mask. Each call feeds every row of the batch
 * a right-padded block of new tokens [B, Tq] with `lengths[r]` ≤ Tq of them real (0 for a row
 * that has nothing new). The new keys/values (after RoPE, one per key/value head: GQA's query
 * groups read them without a repeat) are appended to every layer's cache along the slot axis,
 * so all rows share one slot axis of length S; a slot
 * holding a row's padding is marked invalid for that row and masked out of every later query.
 * Row r's real tokens get positions positions[r], positions[r] + 1, … (learned positions for
 * GPT-2, RoPE angles for the rest), so a row's numbers do not depend on the other rows'
 * lengths: the prefill is simply the first feed, from an empty cache, of the right-padded
 * prompts, exactly the batch the uncached path runs.
 *
 * Layout (why): a decode step's attention is two grouped products per layer, one group per
 * (row, key/value head) (attention.ts's attendCached). Keys are stored as [dh, B, KV, S] and
 * values as [S, B, KV, dh], exactly the operands those products read, so a step transposes
 * only its new token's keys and values, never the cache; values grow by a plain append.
 *
 * Inference only: cached tensors are kept outside any tidy and are not differentiated.
 * After a forward that threw, the cache is unusable (dispose it).
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';

/** What one forward against the cache needs: positions, the attention mask, and the layers to extend. */
export interface KvStep {
  /** [B, Tq] int32: the position of each fed token (padding gets the row's next position, clamped). */
  positions: tf.Tensor2D;
  /** Plain JS copy of `positions`, row-major. */
  positionsJs: Int32Array;
  /** [Tq·B, S + Tq] additive, query-major (line t·B + r): 0 where query t of row r may attend, −1e9 elsewhere. */
  mask: tf.Tensor2D;
  /** As `mask`, for a layer that sees only keys less than `window` positions back (built once per window size). */
  windowMask(window: number): tf.Tensor2D;
}

export class KVCache {
  readonly batch: number;
  private readonly maxPositions: number;
  private readonly keys: Array<tf.Tensor4D | null>; // per layer [dh, B, KV, S]
  private readonly values: Array<tf.Tensor4D | null>; // per layer [S, B, KV, dh]
  /** Per row, one entry per slot: the position of the real token the slot holds for that row, or −1 (padding). */
  private readonly slotPositions: number[][];
  /** Per row: real tokens cached so far = the next token's position. */
  private readonly fed: number[];
  private pending?: { lengths: number[]; T: number };

  /** An empty cache for `batch` rows of a model with `nLayers` blocks and `nCtx` positions. */
  constructor(batch: number, nLayers: number, nCtx: number) {
    this.batch = batch;
    this.maxPositions = nCtx;
    this.keys = Array.from({ length: nLayers }, () => null);
    this.values = Array.from({ length: nLayers }, () => null);
    this.slotPositions = Array.from({ length: batch }, () => []);
    this.fed = Array.from({ length: batch }, () => 0);
  }

  /** Real tokens of row r held in the cache (its next position). */
  length(r: number): number {
    return this.fed[r]!;
  }

  /** Slots on the key axis (real and padding), the same for every row. */
  get slots(): number {
    return this.slotPositions[0]?.length ?? 0;
  }

  /**
   * Called by the model at the start of a forward over ids [B, T] (inside its tidy):
   * checks the batch, builds positions and the mask. `lengths` defaults to T for every row.
   */
  begin(B: number, T: number, lengths?: number[]): KvStep {
    if (B !== this.batch) throw new BonsaiError(`KV cache: it holds ${this.batch} rows, the forward has ${B}`);
    const lens = lengths ?? Array.from({ length: B }, () => T);
    if (lens.length !== B || lens.some((n) => !Number.isInteger(n) || n < 0 || n > T)) {
      throw new BonsaiError(`KV cache: lengths must be ${B} integers in [0, ${T}], got [${lens.join(', ')}]`);
    }
    const over = lens.findIndex((n, r) => this.fed[r]! + n > this.maxPositions);
    if (over >= 0) throw new BonsaiError(`KV cache: row ${over} would hold ${this.fed[over]! + lens[over]!} tokens, past the model's context of ${this.maxPositions}`);
    const S = this.slots;
    const pos = new Int32Array(B * T);
    for (let r = 0; r < B; r++) {
      for (let t = 0; t < T; t++) pos[r * T + t] = Math.min(this.fed[r]! + Math.min(t, Math.max(lens[r]! - 1, 0)), this.maxPositions - 1);
    }
    this.pending = { lengths: lens, T };
    const masks = new Map<number, tf.Tensor2D>();
    const maskOf = (window: number) => {
      if (!masks.has(window)) masks.set(window, tf.tensor2d(this.maskValues(B, T, lens, window), [T * B, S + T]));
      return masks.get(window)!;
    };
    return { positions: tf.tensor2d(pos, [B, T], 'int32'), positionsJs: pos, mask: maskOf(Infinity), windowMask: maskOf };
  }

  /**
   * The additive mask of a step: query t of row r (at position fed[r] + t) sees the row's cached
   * real slots and its own new tokens up to t, all fewer than `window` positions back; a padding
   * query sees at least itself (no all-masked row).
   */
  private maskValues(B: number, T: number, lens: number[], window: number): Float32Array {
    const S = this.slots;
    const mask = new Float32Array(T * B * (S + T)).fill(-1e9);
    for (let r = 0; r < B; r++) {
      const old = this.slotPositions[r]!;
      for (let t = 0; t < T; t++) {
        const row = (t * B + r) * (S + T);
        const p = this.fed[r]! + Math.min(t, Math.max(lens[r]! - 1, 0));
        for (let s = 0; s < S; s++) if (old[s]! >= 0 && p - old[s]! < window) mask[row + s] = 0;
        const upto = t < lens[r]! ? t : Math.max(lens[r]! - 1, 0);
        for (let u = Math.max(0, upto - window + 1); u <= upto; u++) mask[row + S + u] = 0;
        if (t >= lens[r]!) mask[row + S + t] = 0;
      }
    }
    return mask;
  }

  /**
   * Appends layer i's new keys and values k, v [B, T, KV, dh] and returns the full ones to
   * attend over: keys [dh, B, KV, S + T], values [S + T, B, KV, dh]. The stored tensors are
   * kept past the forward's tidy. Each step copies the layer's cache once (tfjs tensors are
   * immutable); with a token per row per step that copy is small beside the step's products.
   */
  extend(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    const [oldK, oldV] = [this.keys[layer], this.values[layer]];
    const newK = permuted(k, [3, 0, 2, 1]); // [dh, B, KV, T]
    const newV = permuted(v, [1, 0, 2, 3]); // [T, B, KV, dh]
    const fullK = tf.keep(oldK ? (tf.concat([oldK, newK], 3) as tf.Tensor4D) : newK === k ? tf.clone(k) : newK);
    const fullV = tf.keep(oldV ? (tf.concat([oldV, newV], 0) as tf.Tensor4D) : newV === v ? tf.clone(v) : newV);
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = fullK;
    this.values[layer] = fullV;
    return [fullK, fullV];
  }

  /** Called by the model after a forward succeeded: records the fed tokens. */
  commit(): void {
    if (!this.pending) return;
    const { lengths, T } = this.pending;
    for (let r = 0; r < this.batch; r++) {
      for (let t = 0; t < T; t++) this.slotPositions[r]!.push(t < lengths[r]! ? this.fed[r]! + t : -1);
      this.fed[r]! += lengths[r]!;
    }
    this.pending = undefined;
  }

  /** Frees every cached tensor; the cache is empty afterwards. */
  dispose(): void {
    for (let i = 0; i < this.keys.length; i++) {
      this.keys[i]?.dispose();
      this.values[i]?.dispose();
      this.keys[i] = null;
      this.values[i] = null;
    }
    for (let r = 0; r < this.batch; r++) {
      this.slotPositions[r] = [];
      this.fed[r] = 0;
    }
  }
}

/**
 * x with its axes permuted; a reshape (no copy, no kernel) when only size-1 axes move, as for
 * a decode step's single token.
 */
export function permuted<T extends tf.Tensor>(x: T, perm: number[]): T {
  const shape = perm.map((a) => x.shape[a]!);
  const big = perm.filter((a) => x.shape[a]! !== 1);
  const inOrder = big.every((a, i) => i === 0 || a > big[i - 1]!);
  return (inOrder ? tf.reshape(x, shape) : tf.transpose(x, perm)) as T;
}
