import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { ForwardOptions } from './hooks.ts';
import { KVCache } from './kv-cache.ts';
import { sampleToken, type SamplingOptions } from './sampling.ts';
import type { CausalLM } from './model.ts';

/**
 * A runtime intervention (see GenerateOptions.insert). `end`, when present, is called once when
 * the generation ends, so the callback can free what it holds (e.g. a frozen model's KV cache).
 */
export interface InsertFn {
  (rows: number[], seqs: number[][]): Array<number[] | null>;
  end?(): void;
}

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
  insert?: InsertFn;
  /**
   * Decode against a per-layer key/value cache (default true): the prompts are prefilled once,
   * then each step feeds only the new tokens. Outputs equal the uncached path; false re-runs
   * the whole window every step (the reference). A sequence longer than the context falls
   * back to the uncached sliding window from that step on.
   */
  kvCache?: boolean;
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
 * window slides once a sequence is longer than the context. With the KV cache (default),
 * each row keeps its own positions in the cache (kv-cache.ts) and only new tokens run.
 */
export function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): Generation {
  if (prompts.length === 0) return { tokens: [], finish: [], inserted: [], interventions: [] };
  if (prompts.some((p) => p.length === 0)) throw new BonsaiError('generate: every prompt needs at least one token');
  if (opts.amplify) checkAmplify(model, opts.amplify);
  const rng = opts.rng instanceof Rng ? opts.rng : new Rng(opts.rng ?? 0);
  const stop = new Set(opts.stopTokens ?? []);
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

  const next = new NextLogits(model, prompts.length, opts);
  try {
    loop(opts, seqs, out, active, interventions, push, next, rng);
  } finally {
    next.dispose();
    opts.insert?.end?.();
  }
  return { tokens: out, finish, inserted, interventions };
}

function loop(opts: GenerateOptions, seqs: number[][], out: number[][], active: Set<number>, interventions: number[], push: (r: number, tok: number, ins: boolean) => void, next: NextLogits, rng: Rng): void {
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
    const { data, V } = next.at(rows, seqs);
    rows.forEach((r, j) => push(r, sampleToken(data.subarray(j * V, (j + 1) * V), opts, rng), false));
  }
}

/**
 * Each step's logits at every given row's last token: [R·V] row-major, from the cache or the full
 * window. Only those R rows go through the output head (a [B, T, V] head over the window would
 * cost as much as the body on a large vocabulary).
 */
class NextLogits {
  private caches?: KVCache[]; // one per model: [generating, amplify.from]

  constructor(
    private readonly model: CausalLM,
    batch: number,
    private readonly opts: GenerateOptions,
  ) {
    if (opts.kvCache !== false) {
      const models = opts.amplify ? [model, opts.amplify.from] : [model];
      this.caches = models.map((m) => new KVCache(batch, m.config.nLayers, m.config.nCtx));
    }
  }

  at(rows: number[], seqs: number[][]): { data: Float32Array; V: number } {
    if (this.caches && rows.some((r) => seqs[r]!.length > this.model.config.nCtx)) this.dispose(); // past the context: slide
    const last = this.caches ? this.cached(rows, seqs, this.caches) : this.uncached(rows, seqs);
    const V = last.shape[1]!;
    const data = last.dataSync() as Float32Array;
    last.dispose();
    return { data, V };
  }

  dispose(): void {
    this.caches?.forEach((c) => c.dispose());
    this.caches = undefined;
  }

  /** Feeds every row what its cache lacks (the prompt at the first step, then the last token or an insertion). */
  private cached(rows: number[], seqs: number[][], caches: KVCache[]): tf.Tensor2D {
    const B = seqs.length;
    const wanted = new Set(rows);
    const lens = seqs.map((s, r) => (wanted.has(r) ? s.length - caches[0]!.length(r) : 0)); // every row ≥ 1 in `rows`
    const T = Math.max(1, ...lens);
    const ids = new Int32Array(B * T);
    seqs.forEach((s, r) => ids.set(s.slice(s.length - lens[r]!), r * T));
    return tf.tidy(() => {
      const idsT = tf.tensor2d(ids, [B, T], 'int32');
      const idx = tf.tensor1d(rows.map((r) => r * T + lens[r]! - 1), 'int32');
      const lastOf = (m: CausalLM, fwd: ForwardOptions, kv: KVCache) => {
        const { hidden, cache } = m.forwardHidden(idsT, { ...fwd, kv, kvLengths: lens }); // [B, T, D]
        cache.dispose();
        return m.decodeLogits(tf.gather(tf.reshape(hidden, [B * T, -1]), idx) as tf.Tensor2D); // [R, V]
      };
      return this.mix(lastOf(this.model, this.opts.forward ?? {}, caches[0]!), () => lastOf(this.opts.amplify!.from, {}, caches[1]!));
    });
  }

  /** (1 + α)·l − α·l_from: exactly l when α = 0 (l·1 − l_from·0). */
  private mix(mine: tf.Tensor2D, from: () => tf.Tensor2D): tf.Tensor2D {
    if (!this.opts.amplify) return mine;
    const { alpha } = this.opts.amplify;
    return tf.sub(tf.mul(mine, 1 + alpha), tf.mul(from(), alpha));
  }

  private uncached(rows: number[], seqs: number[][]): tf.Tensor2D {
    const nCtx = this.model.config.nCtx;
    const windows = rows.map((r) => seqs[r]!.slice(-nCtx));
    const T = Math.max(...windows.map((w) => w.length));
    const ids = new Int32Array(rows.length * T);
    windows.forEach((w, j) => ids.set(w, j * T));
    return tf.tidy(() => {
      const idsT = tf.tensor2d(ids, [rows.length, T], 'int32');
      // Gather each row's logits at its last real position: [R, V].
      const idx = tf.tensor1d(windows.map((w, j) => j * T + w.length - 1), 'int32');
      const lastOf = (m: CausalLM, fwd: ForwardOptions) => {
        const { hidden, cache } = m.forwardHidden(idsT, fwd); // [R, T, D]
        cache.dispose();
        return m.decodeLogits(tf.gather(tf.reshape(hidden, [rows.length * T, -1]), idx) as tf.Tensor2D); // [R, V]
      };
      return this.mix(lastOf(this.model, this.opts.forward ?? {}), () => lastOf(this.opts.amplify!.from, {}));
    });
  }
}

function checkAmplify(model: CausalLM, amp: { from: CausalLM; alpha: number }): void {
  if (!Number.isFinite(amp.alpha)) throw new BonsaiError(`amplify: alpha must be a finite number, got ${amp.alpha}`);
  const [a, b] = [model.config, amp.from.config];
  const diffs = (['vocabSize', 'nCtx'] as const).filter((k) => a[k] !== b[k]).map((k) => `${k} (${a[k]} vs ${b[k]})`);
  if (diffs.length) throw new BonsaiError(`amplify: the model to amplify from differs in ${diffs.join(', ')}; both must share the vocabulary and context`);
}
