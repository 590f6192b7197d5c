import * as tf from '@tensorflow/tfjs';
import type { NamedGrads } from './transform.ts';

/**
 * Small linear algebra for gradient and activation subspaces. Bases are rows: U [k, P]
 * with orthonormal rows. Eigen-problems are n×n with n = number of sample vectors (tens),
 * so they are solved in JS; only the big products touch tensors.
 */

/** Concatenates the named tensors (in `paths` order) into one vector [P]. */
export function flatten(grads: NamedGrads, paths: readonly string[]): tf.Tensor1D {
  return tf.tidy(() => tf.concat(paths.map((p) => tf.reshape(grads[p]!, [-1]))) as tf.Tensor1D);
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi); eigenpairs sorted by value, descending. */
export function symmetricEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length;
  const A = a.map((r) => r.slice());
  const V: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i]![j]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(A[p]![q]!) < 1e-300) continue;
        const theta = (A[q]![q]! - A[p]![p]!) / (2 * A[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k]![p]!, akq = A[k]![q]!;
          A[k]![p] = c * akp - s * akq;
          A[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p]![k]!, aqk = A[q]![k]!;
          A[p]![k] = c * apk - s * aqk;
          A[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k]![p]!, vkq = V[k]![q]!;
          V[k]![p] = c * vkp - s * vkq;
          V[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j]![j]! - A[i]![i]!);
  return { values: order.map((i) => A[i]![i]!), vectors: order.map((i) => V.map((row) => row[i]!)) };
}

/**
 * The top-k principal directions of the rows of `samples` [n, P] (uncentred: the span of
 * the gradients themselves), as an orthonormal basis [k', P] with k' ≤ k (directions with
 * negligible energy are dropped). `energy` is each kept direction's share of the total.
 */
export function topKBasis(samples: tf.Tensor2D, k: number): { basis: tf.Tensor2D; energy: number[] } {
  const { bases, energy } = topKBasisParts([samples], k);
  return { basis: bases[0]!, energy };
}

/**
 * `topKBasis` over samples held as parts: part j is [n, P_j], the samples' entries of one
 * parameter. Returns the same orthonormal basis, split the same way (basis j is [k', P_j]),
 * without ever concatenating or splitting a [P] vector (on wasm, splitting one into dozens
 * of tensors costs more than the rest of the projection together).
 */
export function topKBasisParts(parts: readonly tf.Tensor2D[], k: number): { bases: tf.Tensor2D[]; energy: number[] } {
  const n = parts[0]!.shape[0];
  const gram = tf.tidy(() => tf.addN(parts.map((x) => tf.matMul(x, x, false, true)))); // [n, n] = Σ_j X_j X_jᵀ
  const G = gram.arraySync() as number[][];
  gram.dispose();
  const { values, vectors } = symmetricEigen(G);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const keep = values.map((_v, i) => i).filter((i) => i < k && values[i]! > 1e-10 * Math.max(total, 1e-30));
  const bases = tf.tidy(() => {
    // u_i = Σ_j e_ij x_j / √λ_i, part by part.
    const coef = tf.tensor2d(keep.map((i) => vectors[i]!.map((e) => e / Math.sqrt(values[i]!))), [keep.length, n]);
    return parts.map((x) => tf.keep(tf.matMul(coef, x) as tf.Tensor2D));
  });
  return { bases, energy: keep.map((i) => values[i]! / total) };
}

/** Gram–Schmidt on rows (JS arrays, small widths): orthonormal rows, dependent rows dropped. */
export function orthonormalRows(rows: readonly ArrayLike<number>[]): Float32Array[] {
  const out: Float64Array[] = [];
  for (const r of rows) {
    const v = Float64Array.from(r as ArrayLike<number>);
    const before = Math.hypot(...v);
    // Two passes of modified Gram–Schmidt keep the basis orthogonal to float precision.
    for (let pass = 0; pass < 2; pass++) {
      for (const q of out) {
        let d = 0;
        for (let i = 0; i < v.length; i++) d += v[i]! * q[i]!;
        for (let i = 0; i < v.length; i++) v[i] = v[i]! - d * q[i]!;
      }
    }
    const n = Math.hypot(...v);
    if (n > 1e-6 * Math.max(before, 1e-30)) out.push(v.map((x) => x / n));
  }
  return out.map((q) => Float32Array.from(q));
}
