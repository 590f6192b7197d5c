import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Example } from '../../src/data/types.ts';
import { checkFactorsFit, editWeight, factorEigen } from '../../src/gradients/kfac-edit.ts';
import { collectKfacFactors, type KfacFactor } from '../../src/gradients/kfac-factors.ts';
import { resolveTargets } from '../../src/gradients/kfac-sites.ts';
import { symEigen } from '../../src/gradients/sym-eigen.ts';
import { lmLoss } from '../../src/trainer/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Random examples of length T+1 with every target counted. */
function examples(n: number, T: number, seed = 3): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    ids: Int32Array.from({ length: T + 1 }, () => rng.int(tinyConfig.vocabSize)),
    lossMask: Uint8Array.from({ length: T + 1 }, (_, t) => (t === 0 ? 0 : 1)),
  }));
}

/** A random orthogonal n×n matrix (columns), from the eigenvectors of a random symmetric one. */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) S[i * n + j] = S[j * n + i] = rng.normal();
  return symEigen(S, n).vectors;
}

/** U diag(d) Uᵀ. */
function withSpectrum(U: Float64Array, d: number[]): Float64Array {
  const n = d.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j] += U[i * n + k]! * d[k]! * U[j * n + k]!;
  return out;
}

describe('symEigen', () => {
  it('recovers a planted spectrum and orthonormal vectors', () => {
    const U = randomOrthogonal(6, 1);
    const e = symEigen(withSpectrum(U, [0.5, 4, 1e-3, 2, 3, 1]), 6);
    expect(Array.from(e.values).map((v) => +v.toFixed(9))).toEqual([4, 3, 2, 1, 0.5, 0.001]);
    for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) {
      let dot = 0;
      for (let r = 0; r < 6; r++) dot += e.vectors[r * 6 + a]! * e.vectors[r * 6 + b]!;
      expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
    }
  });
});

describe('editWeight', () => {
  // λ = 4, 3, 2, 1 (A, 4×4) and μ = 5, 2, 0.5 (G, 3×3): total mass 10 · 7.5 = 75. The smallest
  // product is λ=1 · μ=0.5 = 0.5 (next: 1); ρ = 0.99 keeps 74.25 of 75, so exactly that one goes.
  const UA = randomOrthogonal(4, 2);
  const UG = randomOrthogonal(3, 3);
  const factor: KfacFactor = { path: 'w', inDim: 4, outDim: 3, A: withSpectrum(UA, [4, 3, 2, 1]), G: withSpectrum(UG, [5, 2, 0.5]) };
  const eig = { A: symEigen(factor.A, 4), G: symEigen(factor.G, 3) };
  const W = Float32Array.from({ length: 12 }, (_, k) => Math.sin(k + 1));

  it('ρ = 1 leaves the weight unchanged within float tolerance', () => {
    const { weight, report } = editWeight(W, factor, eig, 1);
    for (let k = 0; k < 12; k++) expect(weight[k]).toBeCloseTo(W[k]!, 6);
    expect(report).toMatchObject({ components: 12, kept: 12 });
    expect(report.massKept).toBeCloseTo(1, 12);
    expect(report.relativeChange).toBeLessThan(1e-6);
  });

  it('removes exactly the planted lowest-curvature component u_A(λ=1) ⊗ u_G(μ=0.5)', () => {
    const { weight, report } = editWeight(W, factor, eig, 0.99);
    expect(report.kept).toBe(11);
    expect(report.massKept).toBeCloseTo(74.5 / 75, 12);
    // ΔW must be −c·u vᵀ with u, v the planted eigenvectors (columns 3 of UA and 2 of UG).
    const u = [0, 1, 2, 3].map((r) => UA[r * 4 + 3]!);
    const v = [0, 1, 2].map((r) => UG[r * 3 + 2]!);
    let c = 0;
    for (let r = 0; r < 4; r++) for (let s = 0; s < 3; s++) c += u[r]! * W[r * 3 + s]! * v[s]!;
    for (let r = 0; r < 4; r++) for (let s = 0; s < 3; s++) expect(weight[r * 3 + s]! - W[r * 3 + s]!).toBeCloseTo(-c * u[r]! * v[s]!, 5);
  });

  it('random choice removes as many components, not the planted one', () => {
    const { report } = editWeight(W, factor, eig, 0.9, 'random', new Rng(0));
    const curv = editWeight(W, factor, eig, 0.9).report;
    expect(report.kept).toBe(curv.kept);
    expect(report.massKept).toBeLessThan(curv.massKept);
  });

  it('refuses ρ outside (0, 1]', () => {
    expect(() => editWeight(W, factor, eig, 0)).toThrow(/rho must be in \(0, 1\]/);
    expect(() => editWeight(W, factor, eig, 1.5)).toThrow(/rho must be in/);
  });
});

describe('collectKfacFactors', () => {
  it('with one token, tr(A)·tr(G) is the squared norm of the weight gradient (W_in through ln2, W_out, W_Q)', () => {
    const model = tinyModel(5);
    const ex = examples(1, 1);
    const sites = resolveTargets(model, ['blocks.1.mlp.*', 'blocks.0.attn.W_Q']);
    expect(sites.map((s) => s.path)).toEqual(['blocks.0.attn.W_Q', 'blocks.1.mlp.W_in', 'blocks.1.mlp.W_out']);
    const f = collectKfacFactors(model, sites, ex, { fisher: 'empirical', tokens: 1, batchSize: 1 });
    expect(f.tokens).toBe(1);
    const batch = { inputs: ex[0]!.ids.subarray(0, 1), targets: ex[0]!.ids.subarray(1, 2), weights: new Float32Array([1]), batchSize: 1, seqLen: 1 };
    const vars = sites.map((s) => model.params.get(s.path)!);
    const { value, grads } = tf.variableGrads(() => lmLoss(model, batch), vars);
    for (const s of sites) {
      const trace = (m: Float64Array, n: number) => Array.from({ length: n }, (_, i) => m[i * n + i]!).reduce((a, b) => a + b, 0);
      const fac = f.factors.get(s.path)!;
      const gnorm2 = tf.sum(tf.square(grads[model.params.get(s.path)!.name]!)).dataSync()[0]!;
      expect(trace(fac.A, s.inDim) * trace(fac.G, s.outDim)).toBeCloseTo(gnorm2, 5);
    }
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
  });

  it('sampled Fisher: symmetric PSD factors, no tensor leaked; another model is refused by fingerprint', () => {
    const model = tinyModel(6);
    const sites = resolveTargets(model, ['blocks.*.mlp.W_in']);
    const before = tf.memory().numTensors;
    const f = collectKfacFactors(model, sites, examples(8, 7), { fisher: 'sampled', tokens: 40, batchSize: 4, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(f.tokens).toBe(56); // two batches of 4 × 7
    const e = factorEigen(f).get('blocks.0.mlp.W_in')!;
    expect(e.G.values.at(-1)!).toBeGreaterThan(-1e-9);
    expect(() => checkFactorsFit(f, model.fingerprint())).not.toThrow();
    const other = tinyModel(7);
    expect(() => checkFactorsFit(f, other.fingerprint())).toThrow(/collected on another model/);
    model.dispose();
    other.dispose();
  });

  it('a target glob that matches nothing names the nearest editable paths', () => {
    const model = tinyModel(1);
    expect(() => resolveTargets(model, ['blocks.1.mlp.W_inn'])).toThrow(/"blocks\.1\.mlp\.W_inn" matches no parameter; nearest editable paths: blocks\.1\.mlp\.W_in/);
    expect(() => resolveTargets(model, ['blocks.0.ln1.*'])).toThrow(/which K-FAC does not edit/);
    model.dispose();
  });
});
