/**
 * Runtime intervention: before each generation step, score the prefix's last token with a
 * probe on the FROZEN copy; when it fires (≥ threshold) insert a fixed token sequence (e.g.
 * an abstain marker) and let generation go on. Reading the frozen copy, not the policy,
 * keeps the trigger out of reach of what the policy learns.
 *
 * The frozen pass runs against its own key/value cache (kv-cache.ts), in step with the
 * generation: each call feeds the frozen model only the tokens each row gained since the last
 * call and scores the newest one from the cached pass (the hook sees [B, Tq, …] new-token
 * activations). A sequence past the context falls back to a full window forward.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { InsertFn } from '../models/generate.ts';
import { KVCache } from '../models/kv-cache.ts';
import type { CausalLM } from '../models/model.ts';
import { tokenFeatures } from './capture.ts';
import type { Probe } from './probe.ts';

export interface InterventionOptions {
  frozen: CausalLM;
  probe: Probe;
  /** Tokens inserted when the probe fires. */
  tokens: number[];
  /** Most insertions per sequence (default 1: a marker once, then the model goes on). */
  maxPerSequence?: number;
  /** Fire at this score instead of the probe's own threshold. */
  threshold?: number;
  /**
   * Read the probe once only, when exactly this many tokens have been generated (0: at the
   * prompt's last token), instead of before every token. For a probe trained at one position,
   * e.g. an entity-level "does the model know this?" probe read right before the answer word,
   * which would be read out of distribution anywhere else.
   */
  onlyAfter?: number;
  /** Score from the frozen model's KV cache (default true); false runs a full frozen forward per step (the reference). */
  cache?: boolean;
}

/** An `insert` callback for `generate`, with a running count of interventions. */
export function probeIntervention(o: InterventionOptions) {
  if (!o.frozen.frozen) throw new BonsaiError('intervention: the probe must read a frozen copy (model.frozenCopy())');
  if (o.tokens.length === 0) throw new BonsaiError('intervention: the inserted token sequence is empty');
  const hook = o.probe.meta.hook;
  const threshold = o.threshold ?? o.probe.meta.threshold;
  const max = o.maxPerSequence ?? 1;
  if (o.onlyAfter !== undefined && !(Number.isInteger(o.onlyAfter) && o.onlyAfter >= 0)) throw new BonsaiError(`intervention: onlyAfter must be a whole number of generated tokens, got ${o.onlyAfter}`);
  const fired = new Map<number[], number>(); // by sequence identity: generate keeps one array per row
  const promptLength = new WeakMap<number[], number>(); // each sequence's length when first seen
  const state = { count: 0 };
  const kv = new FrozenCache(o.frozen);
  const insert: InsertFn = (rows: number[], seqs: number[][]): Array<number[] | null> => {
    for (const s of seqs) if (!promptLength.has(s)) promptLength.set(s, s.length);
    const due = (s: number[]) => (fired.get(s) ?? 0) < max && (o.onlyAfter === undefined || s.length - promptLength.get(s)! === o.onlyAfter);
    const todo = seqs.map((s, j) => (due(s) ? j : -1)).filter((j) => j >= 0);
    const out: Array<number[] | null> = seqs.map(() => null);
    if (todo.length === 0) return out;
    const nCtx = o.frozen.config.nCtx;
    const cachedScores = o.cache === false ? undefined : kv.scores(rows, seqs, todo, hook, o.probe);
    const v = cachedScores ?? windowScores(todo, seqs);
    todo.forEach((j, k) => {
      if (v[k]! >= threshold) {
        fired.set(seqs[j]!, (fired.get(seqs[j]!) ?? 0) + 1);
        state.count++;
        out[j] = o.tokens;
      }
    });
    return out;
  };
  insert.end = () => kv.reset();
  /** The uncached path: a full frozen forward over each prefix's window. */
  const windowScores = (todo: number[], seqs: number[][]): Float32Array => {
    const nCtx = o.frozen.config.nCtx;
    const windows = todo.map((j) => seqs[j]!.slice(-nCtx));
    const T = Math.max(...windows.map((w) => w.length));
    const ids = new Int32Array(todo.length * T);
    windows.forEach((w, k) => ids.set(w, k * T));
    const scores = tf.tidy(() => {
      const { hidden, cache } = o.frozen.forwardHidden(tf.tensor2d(ids, [todo.length, T], 'int32'), { cache: hook }); // no output head: only the probe reads
      hidden.dispose();
      const s = o.probe.score(tokenFeatures(cache.get(hook))); // [K, T]
      cache.dispose();
      const idx = tf.tensor1d(windows.map((w, k) => k * T + w.length - 1), 'int32');
      return tf.gather(tf.reshape(s, [-1]), idx); // [K]: each prefix's last token
    });
    const v = scores.dataSync() as Float32Array;
    scores.dispose();
    return v;
  };
  return { insert, state };
}

/**
 * The frozen model's KV cache for one generation, keyed by the generation's row arrays (generate
 * keeps one array per row, so new arrays mean a new generation and a fresh cache).
 */
class FrozenCache {
  private cache?: KVCache;
  private rowsOf = new Map<number[], number>();

  constructor(private readonly frozen: CausalLM) {}

  /** Scores of each todo row's newest token from the cached pass, or undefined past the context. */
  scores(rows: number[], seqs: number[][], todo: number[], hook: string, probe: Probe): Float32Array | undefined {
    if (!this.cache || rows.some((r, j) => this.rowsOf.get(seqs[j]!) !== r)) this.start(rows, seqs);
    const cache = this.cache!;
    if (seqs.some((s) => s.length > this.frozen.config.nCtx)) return undefined;
    const B = cache.batch;
    const lens = new Array<number>(B).fill(0);
    const fedSeq = new Map<number, number[]>();
    rows.forEach((r, j) => {
      lens[r] = seqs[j]!.length - cache.length(r);
      fedSeq.set(r, seqs[j]!);
    });
    const T = Math.max(1, ...lens);
    const ids = new Int32Array(B * T);
    for (const [r, s] of fedSeq) ids.set(s.slice(s.length - lens[r]!), r * T);
    const scores = tf.tidy(() => {
      const { hidden, cache: acts } = this.frozen.forwardHidden(tf.tensor2d(ids, [B, T], 'int32'), { cache: hook, kv: cache, kvLengths: lens }); // no output head: only the probe reads
      hidden.dispose();
      const s = probe.score(tokenFeatures(acts.get(hook))); // [B, T]
      acts.dispose();
      // Each todo row's newest token (a row with nothing new was scored at the last call: never, since generate adds a token per step).
      const idx = tf.tensor1d(todo.map((j) => rows[j]! * T + Math.max(lens[rows[j]!]! - 1, 0)), 'int32');
      return tf.gather(tf.reshape(s, [-1]), idx); // [K]
    });
    const v = scores.dataSync() as Float32Array;
    scores.dispose();
    return v;
  }

  /** A fresh cache over the generation's rows (row ids index the batch generate runs). */
  private start(rows: number[], seqs: number[][]): void {
    this.reset();
    this.cache = new KVCache(Math.max(...rows) + 1, this.frozen.config.nLayers, this.frozen.config.nCtx);
    rows.forEach((r, j) => this.rowsOf.set(seqs[j]!, r));
  }

  reset(): void {
    this.cache?.dispose();
    this.cache = undefined;
    this.rowsOf = new Map();
  }
}
