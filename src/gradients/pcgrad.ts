import * as tf from '@tensorflow/tfjs';
import { flatten, unflatten } from './linalg.ts';
import type { GradientTransform, NamedGrads } from './transform.ts';

/**
 * PCGrad (Yu et al. 2020) on flat gradients [P]: each g_i is projected off every other
 * original g_j it conflicts with (g_i·g_j < 0): g_i ← g_i − (g_i·g_j / ‖g_j‖²) g_j; the
 * results are summed. Fixed order (not the paper's random one) keeps runs reproducible.
 * Returns the combined gradient and the number of conflicting pairs (i, j), i ≠ j.
 */
export function pcgradCombine(gs: readonly tf.Tensor1D[]): { combined: tf.Tensor1D; conflicts: number } {
  let conflicts = 0;
  const combined = tf.tidy(() => {
    const dots = tf.stack(gs.map((a) => tf.stack(gs.map((b) => tf.sum(tf.mul(a, b)))))).arraySync() as number[][];
    const outs = gs.map((gi, i) => {
      let cur: tf.Tensor = gi;
      let curDots = dots[i]!.slice(); // cur · g_j, kept up to date in JS
      for (let j = 0; j < gs.length; j++) {
        if (j === i || !(curDots[j]! < 0) || dots[j]![j]! === 0) continue;
        conflicts++;
        const s = curDots[j]! / dots[j]![j]!;
        cur = tf.sub(cur, tf.mul(gs[j]!, s));
        curDots = curDots.map((d, k) => d - s * dots[j]![k]!);
      }
      return cur;
    });
    return tf.addN(outs) as tf.Tensor1D;
  });
  return { combined, conflicts };
}

/**
 * PCGrad between the training objective (the incoming gradient, named `task`) and named
 * extra objectives whose gradients `objectives` compute (e.g. a retain loss). The update
 * becomes the PCGrad sum of all of them. Logs the cosine of the task with each objective
 * and the number of conflicting pairs.
 */
export function pcgradTransform(o: { name?: string; task?: string; objectives: Record<string, () => NamedGrads> }): GradientTransform {
  const taskName = o.task ?? 'task';
  return {
    name: o.name ?? 'pcgrad',
    apply(grads) {
      const paths = Object.keys(grads).sort();
      const extra = Object.entries(o.objectives).map(([n, f]) => [n, f()] as const);
      const flats = [flatten(grads, paths), ...extra.map(([, g]) => flatten(g, paths))];
      for (const [, g] of extra) tf.dispose(Object.values(g));
      const cos = tf.tidy(() => tf.stack(flats.slice(1).map((f) => tf.div(tf.sum(tf.mul(flats[0]!, f)), tf.add(tf.mul(tf.norm(flats[0]!), tf.norm(f)), 1e-30)))));
      const cosV = cos.dataSync();
      cos.dispose();
      const { combined, conflicts } = pcgradCombine(flats);
      tf.dispose(flats);
      const out = { ...grads, ...unflatten(combined, paths, grads) };
      combined.dispose();
      const stats: Record<string, number> = { conflicts };
      extra.forEach(([n], i) => (stats[`cos_${taskName}_${n}`] = cosV[i]!));
      return { grads: out, stats };
    },
  };
}
