/**
 * The K-FAC curvature edit (Merullo et al., arXiv 2510.24256): express each target W in the
 * eigenbases of its factors, keep the components (i, j) with the largest curvature λ_i·μ_j
 * until they hold ρ of the total, zero the rest, rebuild W. Low-curvature components carry
 * idiosyncratic (memorised) content; high-curvature ones the shared structure.
 *
 * Layout: bonsai's W is [in, out] (y = x·W), A is [in, in] with eigenvectors U_A (columns,
 * eigenvalues λ), G is [out, out] with U_G (μ). Then C = U_Aᵀ W U_G, component C[i, j]
 * pairs λ_i with μ_j, and W′ = U_A (C ⊙ M) U_Gᵀ.
 */
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { KfacFactor, KfacFactors } from './kfac-factors.ts';
import { symEigen, type SymEigen } from './sym-eigen.ts';

/** Eigen-decompositions of one target's factors. */
export interface FactorEigen {
  A: SymEigen;
  G: SymEigen;
}

/**
 * How components are chosen for removal. `curvature`: the method (lowest λ·μ first).
 * `random`: the control — as many components as `curvature` would remove at this ρ, drawn
 * uniformly from the same eigenbasis.
 */
export type ComponentChoice = 'curvature' | 'random';

/** What the edit did to one target. */
export interface TargetEditReport {
  path: string;
  rho: number;
  choice: ComponentChoice;
  /** Components (i, j) in all: in × out. */
  components: number;
  kept: number;
  /** Share of the total curvature mass (Σλ)(Σμ) held by the kept components. */
  massKept: number;
  /** ‖W′ − W‖_F / ‖W‖_F. */
  relativeChange: number;
  /** With an absolute curvature threshold (editWeightAbove): the threshold. */
  threshold?: number;
}

/** Eigen-decomposes every factor (the slow part; reuse it across ρ values). */
export function factorEigen(factors: KfacFactors): Map<string, FactorEigen> {
  const out = new Map<string, FactorEigen>();
  for (const f of factors.factors.values()) out.set(f.path, { A: symEigen(f.A, f.inDim), G: symEigen(f.G, f.outDim) });
  return out;
}

/**
 * Refuses factors collected on another model: the fingerprint (sha256 of every weight)
 * must match, or the curvature describes weights that are not these.
 */
export function checkFactorsFit(factors: KfacFactors, modelFingerprint: string, where = 'K-FAC factors'): void {
  if (factors.fingerprint !== modelFingerprint) {
    throw new BonsaiError(`${where} were collected on another model (fingerprint ${short(factors.fingerprint)}, this model is ${short(modelFingerprint)})`, {
      hint: 'collect the factors again on this model (drop edit.factors, or point it at a new path)',
    });
  }
}

const short = (fp: string) => `${fp.slice(0, 19)}…`;

/** Clamped eigenvalues of one target's factors: component (i, j) has curvature λ_i·μ_j. */
export function curvatures(eig: FactorEigen): { lam: number[]; mu: number[] } {
  return { lam: Array.from(eig.A.values, (v) => Math.max(v, 0)), mu: Array.from(eig.G.values, (v) => Math.max(v, 0)) };
}

/**
 * Edits one weight matrix W [in, out] (row-major). `choice` and `rng` pick the removed
 * components; ρ = 1 keeps every component, so W comes back unchanged up to rounding.
 */
export function editWeight(W: Float32Array, factor: KfacFactor, eig: FactorEigen, rho: number, choice: ComponentChoice = 'curvature', rng?: Rng): { weight: Float32Array; report: TargetEditReport } {
  if (!(rho > 0 && rho <= 1)) throw new BonsaiError(`${factor.path}: rho must be in (0, 1], got ${rho}`);
  const { lam, mu } = curvatures(eig);
  const n = factor.outDim;
  const total = lam.reduce((s, v) => s + v, 0) * mu.reduce((s, v) => s + v, 0);
  const order = curvatureOrder(lam, mu);
  // The kept set is the shortest prefix (by curvature, descending) holding ρ of the mass.
  let keepCount = order.length;
  if (rho < 1) {
    let acc = 0;
    for (let k = 0; k < order.length; k++) {
      acc += lam[Math.floor(order[k]! / n)]! * mu[order[k]! % n]!;
      if (acc >= rho * total) {
        keepCount = k + 1;
        break;
      }
    }
  }
  return editKeeping(W, factor, eig, order, keepCount, rho, choice, rng);
}

/**
 * Edits one weight matrix keeping the components whose curvature λ_i·μ_j is at least
 * `threshold` (absolute, so one threshold means the same sensitivity in every target);
 * the report's ρ is the curvature mass that survives.
 */
export function editWeightAbove(W: Float32Array, factor: KfacFactor, eig: FactorEigen, threshold: number, choice: ComponentChoice = 'curvature', rng?: Rng): { weight: Float32Array; report: TargetEditReport } {
  const { lam, mu } = curvatures(eig);
  const n = factor.outDim;
  const order = curvatureOrder(lam, mu);
  let keepCount = 0;
  while (keepCount < order.length && lam[Math.floor(order[keepCount]! / n)]! * mu[order[keepCount]! % n]! >= threshold) keepCount++;
  const out = editKeeping(W, factor, eig, order, keepCount, 1, choice, rng);
  out.report.rho = out.report.massKept;
  out.report.threshold = threshold;
  return out;
}

/** Component indices (i·out + j) by curvature λ_i·μ_j, descending. */
function curvatureOrder(lam: readonly number[], mu: readonly number[]): number[] {
  const n = mu.length;
  return Array.from({ length: lam.length * n }, (_, k) => k).sort((a, b) => lam[Math.floor(b / n)]! * mu[b % n]! - lam[Math.floor(a / n)]! * mu[a % n]!);
}

/** Keeps `keepCount` components — the first of `order` (curvature), or as many at random (the control) — and rebuilds W. */
function editKeeping(W: Float32Array, factor: KfacFactor, eig: FactorEigen, order: readonly number[], keepCount: number, rho: number, choice: ComponentChoice, rng?: Rng): { weight: Float32Array; report: TargetEditReport } {
  const { inDim: m, outDim: n, path } = factor;
  if (W.length !== m * n) throw new BonsaiError(`${path}: factors are for a [${m}, ${n}] matrix, the weight has ${W.length} entries`);
  const { lam, mu } = curvatures(eig);
  const total = lam.reduce((s, v) => s + v, 0) * mu.reduce((s, v) => s + v, 0);
  const keep = new Uint8Array(m * n);
  if (choice === 'curvature') for (let k = 0; k < keepCount; k++) keep[order[k]!] = 1;
  else {
    if (!rng) throw new Error('internal: a random choice needs an rng');
    const perm = Array.from({ length: m * n }, (_, k) => k);
    for (let k = perm.length - 1; k > 0; k--) {
      const r = rng.int(k + 1);
      [perm[k], perm[r]] = [perm[r]!, perm[k]!];
    }
    for (let k = 0; k < keepCount; k++) keep[perm[k]!] = 1;
  }
  let massKept = 0;
  for (let c = 0; c < m * n; c++) if (keep[c]) massKept += lam[Math.floor(c / n)]! * mu[c % n]!;
  const C = inBases(W, eig.A.vectors, eig.G.vectors, m, n); // [m, n]
  for (let c = 0; c < m * n; c++) if (!keep[c]) C[c] = 0;
  const edited = fromBases(C, eig.A.vectors, eig.G.vectors, m, n);
  let d2 = 0;
  let w2 = 0;
  for (let k = 0; k < m * n; k++) {
    d2 += (edited[k]! - W[k]!) ** 2;
    w2 += W[k]! ** 2;
  }
  const report: TargetEditReport = { path, rho, choice, components: m * n, kept: keepCount, massKept: total > 0 ? massKept / total : 1, relativeChange: Math.sqrt(d2 / Math.max(w2, 1e-300)) };
  return { weight: Float32Array.from(edited), report };
}

/** C = U_Aᵀ W U_G, with U_A [m, m] and U_G [n, n] row-major (eigenvectors in columns). */
function inBases(W: Float32Array, UA: Float64Array, UG: Float64Array, m: number, n: number): Float64Array {
  return matMulF64(matMulF64(transposeF64(UA, m, m), Float64Array.from(W), m, m, n), UG, m, n, n);
}

/** W = U_A C U_Gᵀ. */
function fromBases(C: Float64Array, UA: Float64Array, UG: Float64Array, m: number, n: number): Float64Array {
  return matMulF64(matMulF64(UA, C, m, m, n), transposeF64(UG, n, n), m, n, n);
}

/** The transpose of row-major [p, q] `a`, as row-major [q, p]. */
function transposeF64(a: Float64Array, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) out[j * p + i] = a[i * q + j]!;
  return out;
}

/** [p, q] · [q, s] in float64, row-major. */
function matMulF64(a: Float64Array, b: Float64Array, p: number, q: number, s: number): Float64Array {
  const out = new Float64Array(p * s);
  for (let i = 0; i < p; i++) for (let k = 0; k < q; k++) {
    const x = a[i * q + k]!;
    if (x === 0) continue;
    for (let j = 0; j < s; j++) out[i * s + j] += x * b[k * s + j]!;
  }
  return out;
}
