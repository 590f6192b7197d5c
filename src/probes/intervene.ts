/**
 * Runtime intervention: before each generation step, score the prefix's last token with a
 * probe on the FROZEN copy; when it fires (≥ threshold) insert a fixed token sequence (e.g.
 * an abstain marker) and let generation go on. Reading the frozen copy, not the policy,
 * keeps the trigger out of reach of what the policy learns.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
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
  const insert = (_rows: number[], seqs: number[][]): Array<number[] | null> => {
    for (const s of seqs) if (!promptLength.has(s)) promptLength.set(s, s.length);
    const due = (s: number[]) => (fired.get(s) ?? 0) < max && (o.onlyAfter === undefined || s.length - promptLength.get(s)! === o.onlyAfter);
    const todo = seqs.map((s, j) => (due(s) ? j : -1)).filter((j) => j >= 0);
    const out: Array<number[] | null> = seqs.map(() => null);
    if (todo.length === 0) return out;
    const nCtx = o.frozen.config.nCtx;
    const windows = todo.map((j) => seqs[j]!.slice(-nCtx));
    const T = Math.max(...windows.map((w) => w.length));
    const ids = new Int32Array(todo.length * T);
    windows.forEach((w, k) => ids.set(w, k * T));
    const scores = tf.tidy(() => {
      const { logits, cache } = o.frozen.forward(tf.tensor2d(ids, [todo.length, T], 'int32'), { cache: hook });
      logits.dispose();
      const s = o.probe.score(tokenFeatures(cache.get(hook))); // [K, T]
      cache.dispose();
      const idx = tf.tensor1d(windows.map((w, k) => k * T + w.length - 1), 'int32');
      return tf.gather(tf.reshape(s, [-1]), idx); // [K]: each prefix's last token
    });
    const v = scores.dataSync();
    scores.dispose();
    todo.forEach((j, k) => {
      if (v[k]! >= threshold) {
        fired.set(seqs[j]!, (fired.get(seqs[j]!) ?? 0) + 1);
        state.count++;
        out[j] = o.tokens;
      }
    });
    return out;
  };
  return { insert, state };
}
