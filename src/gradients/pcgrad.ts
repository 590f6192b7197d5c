import * as tf from '@tensorflow/tfjs';
import { flatten } from './linalg.ts';
import type { GradientTransform, NamedGrads } from './transform.ts';

/**
 * PCGrad (Yu et al. 2020) as coefficients: each g_i is projected off every other original
 * g_j it conflicts with (g_i·g_j < 0): g_i ← g_i − (g_i·g_j / ‖g_j‖²) g_j, and the results
 * are summed. Every step is a linear combination of the originals, so the sum is Σ_j coef_j
 * g_j, found from the dot products alone (`dots[i][j]` = g_i·g_j). Fixed order (not the
 * paper's random one) keeps runs reproducible. `conflicts` counts the pairs (i, j), i ≠ j.
 */
function pcgradCoefficients(dots: readonly (readonly number[])[]): { coef: number[]; conflicts: number } {
  const n = dots.length;
  const coef = new Array<number>(n).fill(0);
  let conflicts = 0;
  for (let i = 0; i < n; i++) {
    const c = new Array<number>(n).fill(0); // the current g_i as a combination of the originals
    c[i] = 1;
    let curDots = dots[i]!.slice(); // current g_i · g_j
    for (let j = 0; j < n; j++) {
      if (j === i || !(curDots[j]! < 0) || dots[j]![j]! === 0) continue;
      conflicts++;
      const s = curDots[j]! / dots[j]![j]!;
      c[j]! -= s;
      curDots = curDots.map((d, k) => d - s * dots[j]![k]!);
    }
    c.forEach((v, k) => (coef[k]! += v));
  }
  return { coef, conflicts };
}

/** PCGrad on flat gradients [P]: the combined gradient and the number of conflicting pairs. */
export function pcgradCombine(gs: readonly tf.Tensor1D[]): { combined: tf.Tensor1D; conflicts: number } {
  const dots = tf.tidy(() => tf.stack(gs.map((a) => tf.stack(gs.map((b) => tf.sum(tf.mul(a, b))))))).arraySync() as number[][];
  const { coef, conflicts } = pcgradCoefficients(dots);
  return { combined: tf.tidy(() => tf.addN(gs.map((g, j) => tf.mul(g, coef[j]!))) as tf.Tensor1D), conflicts };
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
      const all = [grads, ...extra.map(([, g]) => g)];
      // Dot products on flat vectors (one concat each); the combination itself runs tensor by
      // tensor, since splitting a flat [P] result back into dozens of tensors is slow on wasm.
      const dots = tf.tidy(() => {
        const flats = all.map((g) => flatten(g, paths));
        return tf.stack(flats.map((a) => tf.stack(flats.map((b) => tf.sum(tf.mul(a, b)))))).arraySync() as number[][];
      });
      const cosV = dots[0]!.slice(1).map((d, i) => d / (Math.sqrt(dots[0]![0]! * dots[i + 1]![i + 1]!) + 1e-30));
      const { coef, conflicts } = pcgradCoefficients(dots);
      const combined = tf.tidy(() => Object.fromEntries(paths.map((p) => [p, tf.addN(all.map((g, j) => tf.mul(g[p]!, coef[j]!)))])));
      for (const [, g] of extra) tf.dispose(Object.values(g));
      const out = { ...grads, ...combined };
      const stats: Record<string, number> = { conflicts };
      extra.forEach(([n], i) => (stats[`cos_${taskName}_${n}`] = cosV[i]!));
      return { grads: out, stats };
    },
  };
}
