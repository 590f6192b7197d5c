import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { globToRegExp } from '../util/glob.ts';
import type { Selection } from './select.ts';

/**
 * How one batch's gradient scores an entry. `gradient_x_weight`: |g ⊙ w|, the first-order
 * estimate of how much the task's loss moves if that entry were zeroed. `fisher`: g², the
 * diagonal of the empirical Fisher (EWC's importance) when the batches are single examples.
 */
export type AttributionScore = 'gradient_x_weight' | 'fisher';

/**
 * Attribution of a task to parameters: the per-batch score summed over batches.
 * `loss` maps one batch to a scalar loss on the model whose `params` are scored. Pass
 * single-example batches to sum per example (no cancellation between examples).
 */
export function attributionScores<B>(
  params: ReadonlyMap<string, tf.Variable>,
  batches: readonly B[],
  loss: (batch: B) => tf.Scalar,
  include: (path: string, p: tf.Variable) => boolean = (_path, p) => p.rank >= 2,
  score: AttributionScore = 'gradient_x_weight',
): Map<string, Float32Array> {
  const chosen = [...params].filter(([path, p]) => include(path, p));
  const sums = new Map(
    chosen.map(([path, p]) => {
      const zeros = tf.zerosLike(p);
      const s = tf.variable(zeros, false);
      zeros.dispose(); // the variable holds its own copy
      return [path, s] as const;
    }),
  );
  try {
    for (const b of batches) {
      const { value, grads } = tf.variableGrads(() => loss(b), chosen.map(([, p]) => p));
      value.dispose();
      for (const [path, p] of chosen) {
        const g = grads[p.name]!;
        const s = sums.get(path)!;
        tf.tidy(() => s.assign(tf.add(s, score === 'fisher' ? tf.square(g) : tf.abs(tf.mul(g, p)))));
      }
      tf.dispose(Object.values(grads));
    }
    return new Map([...sums].map(([path, s]) => [path, s.dataSync() as Float32Array]));
  } finally {
    for (const s of sums.values()) s.dispose();
  }
}

/** The top `percent`% of entries by score, with one threshold across all scored tensors. */
export function selectTopPercent(scores: ReadonlyMap<string, Float32Array>, percent: number): Selection {
  if (!(percent > 0 && percent <= 100)) throw new BonsaiError(`freeze.attribution.top_percent must be in (0, 100], got ${percent}`);
  let n = 0;
  for (const s of scores.values()) n += s.length;
  const all = new Float32Array(n);
  let o = 0;
  for (const s of scores.values()) (all.set(s, o), (o += s.length));
  all.sort();
  const k = Math.max(1, Math.round((n * percent) / 100));
  const threshold = all[n - k]!;
  // Ties at the threshold could overshoot k; take them in path order until k are chosen.
  let left = k;
  const sel: Selection = new Map();
  for (const [path, s] of scores) {
    const flags = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) if (s[i]! > threshold) (flags[i] = 1), left--;
    sel.set(path, flags);
  }
  for (const [path, s] of scores) {
    const flags = sel.get(path)!;
    for (let i = 0; i < s.length && left > 0; i++) if (s[i] === threshold && !flags[i]) (flags[i] = 1), left--;
  }
  return sel;
}

/** A path filter from an optional glob: matrices only by default (biases and gains are few). */
export function attributionFilter(glob?: string): (path: string, p: tf.Variable) => boolean {
  if (!glob) return (_path, p) => p.rank >= 2;
  const re = globToRegExp(glob);
  return (path) => re.test(path);
}
