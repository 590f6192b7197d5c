import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { ForwardOptions } from './hooks.ts';
import { sampleToken, type SamplingOptions } from './sampling.ts';
import type { CausalLM } from './model.ts';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Generation of a sequence ends after it emits any of these token ids (kept in the output). */
  stopTokens?: number[];
  /** Seed or generator for sampling. */
  rng?: Rng | number;
  /** Hooks for the forward passes (e.g. interventions asked for at inference). */
  forward?: Omit<ForwardOptions, 'cache'>;
  /**
   * Runtime intervention: called before each sampling step with the active rows and their
   * full sequences; a row for which it returns tokens gets them appended instead of a
   * sampled token this step (e.g. an abstain marker when a probe fires on the prefix).
   */
  insert?: (rows: number[], seqs: number[][]) => Array<number[] | null>;
  /**
   * Logit-diff amplification (Aranguri & McGrath 2025): sample from
   * logits + α·(logits − logits_from), where `from` is the model before (e.g. a fine-tune's
   * base). It surfaces behaviours the change introduced at rates too low to see directly.
   * `forward` hooks apply to the generating model only. α = 0 is plain sampling.
   */
  amplify?: { from: CausalLM; alpha: number };
}

export interface Generation {
  /** The new tokens of each sequence (the prompt excluded). */
  tokens: number[][];
  /** Why each sequence ended. */
  finish: Array<'stop' | 'length'>;
  /** Per sequence, true at each new token that `insert` put there rather than sampling. */
  inserted: boolean[][];
  /** Number of insertions per sequence. */
  interventions: number[];
}

/**
 * Generates continuations of a batch of prompts of any lengths. Sequences are padded on
 * the right, so a causal model's logits at each row's last real position are exact; the
 * window slides once a sequence is longer than the context.
 */
export function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): Generation {
  if (prompts.length === 0) return { tokens: [], finish: [], inserted: [], interventions: [] };
  if (prompts.some((p) => p.length === 0)) throw new BonsaiError('generate: every prompt needs at least one token');
  if (opts.amplify) checkAmplify(model, opts.amplify);
  const rng = opts.rng instanceof Rng ? opts.rng : new Rng(opts.rng ?? 0);
  const stop = new Set(opts.stopTokens ?? []);
  const nCtx = model.config.nCtx;
  const seqs = prompts.map((p) => [...p]);
  const out: number[][] = prompts.map(() => []);
  const finish: Array<'stop' | 'length'> = prompts.map(() => 'length');
  const active = new Set(prompts.map((_, i) => i));
  const inserted: boolean[][] = prompts.map(() => []);
  const interventions = prompts.map(() => 0);
  const push = (r: number, tok: number, wasInserted: boolean) => {
    seqs[r]!.push(tok);
    out[r]!.push(tok);
    inserted[r]!.push(wasInserted);
    if (stop.has(tok)) {
      finish[r] = 'stop';
      active.delete(r);
    }
  };

  for (let step = 0; step < opts.maxNewTokens && active.size > 0; step++) {
    if (opts.insert) {
      const rowsNow = [...active];
      const ins = opts.insert(rowsNow, rowsNow.map((r) => seqs[r]!));
      rowsNow.forEach((r, j) => {
        const toks = ins[j];
        if (!toks?.length) return;
        interventions[r]! += 1;
        for (const t of toks.slice(0, opts.maxNewTokens - out[r]!.length)) if (active.has(r)) push(r, t, true);
      });
      if (active.size === 0) break;
    }
    const rows = [...active].filter((r) => out[r]!.length < opts.maxNewTokens);
    if (rows.length === 0) break;
    const windows = rows.map((r) => seqs[r]!.slice(-nCtx));
    const T = Math.max(...windows.map((w) => w.length));
    const ids = new Int32Array(rows.length * T);
    windows.forEach((w, j) => ids.set(w, j * T));
    const last = tf.tidy(() => {
      const idsT = tf.tensor2d(ids, [rows.length, T], 'int32');
      // Gather each row's logits at its last real position: [R, V].
      const idx = tf.tensor1d(windows.map((w, j) => j * T + w.length - 1), 'int32');
      const lastOf = (m: CausalLM, fwd: ForwardOptions) => {
        const { logits, cache } = m.forward(idsT, fwd);
        cache.dispose();
        return tf.gather(tf.reshape(logits, [rows.length * T, -1]), idx);
      };
      const mine = lastOf(model, opts.forward ?? {});
      if (!opts.amplify) return mine;
      // (1 + α)·l − α·l_from: exactly l when α = 0 (l·1 − l_from·0).
      const { from, alpha } = opts.amplify;
      return tf.sub(tf.mul(mine, 1 + alpha), tf.mul(lastOf(from, {}), alpha));
    });
    const V = last.shape[1]!;
    const data = last.dataSync() as Float32Array;
    last.dispose();
    rows.forEach((r, j) => push(r, sampleToken(data.subarray(j * V, (j + 1) * V), opts, rng), false));
  }
  return { tokens: out, finish, inserted, interventions };
}

function checkAmplify(model: CausalLM, amp: { from: CausalLM; alpha: number }): void {
  if (!Number.isFinite(amp.alpha)) throw new BonsaiError(`amplify: alpha must be a finite number, got ${amp.alpha}`);
  const [a, b] = [model.config, amp.from.config];
  const diffs = (['vocabSize', 'nCtx'] as const).filter((k) => a[k] !== b[k]).map((k) => `${k} (${a[k]} vs ${b[k]})`);
  if (diffs.length) throw new BonsaiError(`amplify: the model to amplify from differs in ${diffs.join(', ')}; both must share the vocabulary and context`);
}
