/**
 * Eigen-decomposition of a dense symmetric matrix held flat (row-major Float64Array), for
 * the K-FAC factors (n = a layer's width: hundreds). Cyclic Jacobi with a threshold
 * relative to the matrix's own norm, so factors with tiny entries (gradient second moments
 * of 1e-8) converge as well as O(1) ones; linalg.ts's solver stops at an absolute 1e-22.
 * Cost is about 10·n³ flops: a 256×256 factor takes well under a second, GPT-2 small's
 * 3072-wide MLP would take minutes (a LAPACK path would be needed there).
 */

/** Eigenpairs sorted by value, descending. `vectors` is [n, n] row-major with eigenvector k in column k. */
export interface SymEigen {
  n: number;
  values: Float64Array; // [n]
  vectors: Float64Array; // [n, n], column k ↔ values[k]
}

/** Eigen-decomposition of the symmetric n×n matrix `a` (row-major; only read, never changed). */
export function symEigen(a: ArrayLike<number>, n: number): SymEigen {
  if (a.length !== n * n) throw new Error(`internal: symEigen expects ${n * n} entries, got ${a.length}`);
  const A = Float64Array.from(a);
  // Symmetrise: accumulated sums can differ in the last bits between (i, j) and (j, i).
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) A[i * n + j] = A[j * n + i] = 0.5 * (A[i * n + j]! + A[j * n + i]!);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let norm2 = 0;
  for (let i = 0; i < n * n; i++) norm2 += A[i]! * A[i]!;
  const tol = 1e-24 * norm2;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i * n + j]! ** 2;
    if (off <= tol || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        // Skip rotations too small to matter relative to the diagonal they would change.
        if (Math.abs(apq) <= 1e-300 || apq * apq <= 1e-30 * Math.abs(A[p * n + p]! * A[q * n + q]!)) continue;
        const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        rotate(A, V, n, p, q, c, s);
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j]! - A[i * n + i]!);
  const values = Float64Array.from(order, (i) => A[i * n + i]!);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let r = 0; r < n; r++) vectors[r * n + k] = V[r * n + order[k]!]!;
  return { n, values, vectors };
}

/** Applies the Jacobi rotation (p, q, c, s): A ← Jᵀ A J, V ← V J. */
function rotate(A: Float64Array, V: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < n; k++) {
    const akp = A[k * n + p]!, akq = A[k * n + q]!;
    A[k * n + p] = c * akp - s * akq;
    A[k * n + q] = s * akp + c * akq;
  }
  const rp = p * n, rq = q * n;
  for (let k = 0; k < n; k++) {
    const apk = A[rp + k]!, aqk = A[rq + k]!;
    A[rp + k] = c * apk - s * aqk;
    A[rq + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = V[k * n + p]!, vkq = V[k * n + q]!;
    V[k * n + p] = c * vkp - s * vkq;
    V[k * n + q] = s * vkp + c * vkq;
  }
}
