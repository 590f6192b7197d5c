/**
 * Runtime intervention: before each generation step, score the prefix's last token with a
 * probe on the FROZEN copy; when it fires (≥ threshold) insert a fixed token sequence (e.g.
 * an abstain marker) and let generation go on. Reading the frozen copy, not the policy,
 * keeps the trigger out of reach of what the policy learns.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import { tokenFeatures } from './capture.ts';
import type { Probe } from './probe.ts';

export interface InterventionOptions {
  frozen: HookedTransformer;
  probe: Probe;
  /** Tokens inserted when the probe fires. */
  tokens: number[];
  /** Most insertions per sequence (default 1: a marker once, then the model goes on). */
  maxPerSequence?: number;
  /** Fire at this score instead of the probe's own threshold. */
  threshold?: number;
  /**
   * Where the probe is read. `every_token` (default): the prefix's last token before each
   * generated token. `prompt_end`: only the prompt's last token, before the first generated
   * one — for an entity-level "does the model know this?" probe trained at that position,
   * which would be read out of distribution anywhere else.
   */
  at?: 'every_token' | 'prompt_end';
}

/** An `insert` callback for `generate`, with a running count of interventions. */
export function probeIntervention(o: InterventionOptions) {
  if (!o.frozen.frozen) throw new BonsaiError('intervention: the probe must read a frozen copy (model.frozenCopy())');
  if (o.tokens.length === 0) throw new BonsaiError('intervention: the inserted token sequence is empty');
  const hook = o.probe.meta.hook;
  const threshold = o.threshold ?? o.probe.meta.threshold;
  const max = o.maxPerSequence ?? 1;
  const fired = new Map<number[], number>(); // by sequence identity: generate keeps one array per row
  const seen = new WeakSet<number[]>(); // sequences already read once (prompt_end reads only then)
  const state = { count: 0 };
  const insert = (_rows: number[], seqs: number[][]): Array<number[] | null> => {
    const due = (s: number[]) => (fired.get(s) ?? 0) < max && !(o.at === 'prompt_end' && seen.has(s));
    const todo = seqs.map((s, j) => (due(s) ? j : -1)).filter((j) => j >= 0);
    for (const s of seqs) seen.add(s);
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
