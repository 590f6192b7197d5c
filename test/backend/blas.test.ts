import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendTags, describeBackend, initBackend } from '../../src/backend/index.ts';
import { chooseProductPath, useBlas } from '../../src/backend/blas.ts';
import { activeBlas, takeProductCounts } from '../../src/backend/blas-kernels.ts';
import { findBlas } from '../../src/backend/blas-library.ts';
import { Rng } from '../../src/util/rng.ts';

/**
 * The wasm backend's products on the platform's BLAS (blas-kernels.ts) against tfjs-cpu, and
 * the XNNPACK fallback against the same reference: every product form the models use.
 * CI installs libopenblas0-pthread (.ci/run), so there the BLAS path must be found.
 */

const found = findBlas();
const mustFind = process.env.CI === 'true' && process.platform === 'linux';

/** Relative tolerance against cpu: |got − want| ≤ TOL · max(1, max |want|). Measured worst: ~3e-7. */
const TOL = 1e-5;

const rng = new Rng(21);
const randn = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());

/** A product case: operand shapes as stored, flags, and optionally a fused bias / activation. */
interface Case {
  name: string;
  a: number[];
  b: number[];
  tA?: boolean;
  tB?: boolean;
  bias?: number[];
  activation?: 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid' | 'elu' | 'prelu';
  /** tfjs-wasm 4.22's own kernel gets this case wrong (the BLAS path gets it right); no model uses it. */
  wrongOnXnnpack?: boolean;
}

// N = B·T rows; the reference shape (d 128, d_mlp 512, vocab 256), a SmolLM2-like one (d 576,
// d_mlp 1536, r 16), attention's per-head batches, odd sizes, and the degenerate ones.
const CASES: Case[] = [
  { name: 'linear x·W', a: [96, 128], b: [128, 512] },
  { name: 'linear x·W + b (fused)', a: [96, 128], b: [128, 384], bias: [384] },
  { name: 'input gradient dy·Wᵀ', a: [96, 512], b: [128, 512], tB: true },
  { name: 'weight gradient xᵀ·dy', a: [96, 128], b: [96, 512], tA: true },
  { name: 'doubly transposed (LoRA ΔW = (s·A)ᵀ·Bᵀ)', a: [16, 576], b: [1536, 16], tA: true, tB: true },
  { name: 'LoRA down x·Aᵀ', a: [64, 576], b: [16, 576], tB: true },
  { name: 'tied unembedding h·W_Eᵀ', a: [40, 128], b: [256, 128], tB: true },
  { name: 'attention scores q·kᵀ, batched', a: [8, 12, 16], b: [8, 12, 16], tB: true },
  { name: 'attention p·v, batched', a: [8, 12, 12], b: [8, 12, 16] },
  { name: 'attention dk = dsᵀ·q, batched', a: [8, 12, 12], b: [8, 12, 16], tA: true },
  { name: '4-D batch', a: [2, 3, 7, 5], b: [2, 3, 5, 9] },
  { name: 'one weight against a batch (broadcast)', a: [4, 10, 6], b: [6, 11] },
  { name: 'odd sizes', a: [37, 101], b: [101, 53] },
  { name: 'one row (decode step)', a: [1, 64], b: [64, 200] },
  { name: 'tiny', a: [2, 2], b: [2, 2] },
  { name: 'empty inner dimension', a: [3, 0], b: [0, 4], wrongOnXnnpack: true }, // uninitialised memory, not zeros
  { name: 'no rows', a: [0, 5], b: [5, 4] },
  { name: 'fused, one bias value, relu', a: [20, 30], b: [30, 10], bias: [1], activation: 'relu', wrongOnXnnpack: true },
  { name: 'fused relu6, transposed', a: [30, 20], b: [10, 30], tA: true, tB: true, bias: [10], activation: 'relu6', wrongOnXnnpack: true },
  { name: 'fused leakyrelu', a: [20, 30], b: [30, 10], bias: [10], activation: 'leakyrelu' },
  { name: 'fused sigmoid', a: [20, 30], b: [30, 10], activation: 'sigmoid' },
  { name: 'fused elu, batched', a: [3, 20, 30], b: [3, 30, 10], bias: [10], activation: 'elu', wrongOnXnnpack: true },
  { name: 'fused prelu (left to the original kernel)', a: [20, 30], b: [30, 10], bias: [10], activation: 'prelu' },
];

const inputs = new Map(CASES.map((c) => [c.name, { a: randn(c.a), b: randn(c.b), bias: c.bias ? randn(c.bias) : undefined, alpha: randn([10]) }]));

function run(c: Case): Float32Array {
  return tf.tidy(() => {
    const v = inputs.get(c.name)!;
    const a = tf.tensor(v.a, c.a);
    const b = tf.tensor(v.b, c.b);
    const fused = c.bias !== undefined || c.activation !== undefined;
    const out = fused
      ? tf.fused.matMul({
          a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeA: c.tA, transposeB: c.tB,
          bias: v.bias ? tf.tensor(v.bias, c.bias) : undefined, activation: c.activation,
          preluActivationWeights: c.activation === 'prelu' ? tf.tensor1d(v.alpha) : undefined, leakyreluAlpha: 0.1,
        })
      : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, c.tA, c.tB);
    return out.dataSync() as Float32Array;
  });
}

function relErr(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / scale;
}

describe('finding the platform BLAS', () => {
  it.runIf(mustFind)('finds OpenBLAS on CI (.ci/run installs libopenblas0-pthread)', () => {
    expect(found.library?.name).toMatch(/^OpenBLAS [\d.]+ \(libopenblas\.so\.0\)$/);
  });

  it('BONSAI_BLAS=off finds nothing and says so', () => {
    expect(findBlas({ BONSAI_BLAS: 'off' })).toEqual({ tried: [], notes: ['BONSAI_BLAS=off'] });
  });

  it('a library present but unusable is named in one line, then passed over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bonsai-blas-'));
    const junk = join(dir, 'libopenblas.so.0');
    writeFileSync(junk, Buffer.alloc(4096, 0x41)); // not a shared object (as a wrong-architecture one)
    const s = findBlas({}, [junk, 'libnot-a-blas-anywhere.so.9']);
    expect(s.library).toBeUndefined();
    expect(s.notes).toEqual([expect.stringMatching(new RegExp(`^${junk.replace(/[.]/g, '\\.')} is present but did not load: `))]);
    expect(s.tried).toEqual([junk, 'libnot-a-blas-anywhere.so.9']); // an absent one is no note
  });

  it.runIf(process.platform === 'linux')('a library without cblas_sgemm is unusable, not a crash', () => {
    const s = findBlas({ BONSAI_BLAS: 'libm.so.6' });
    expect(s.library).toBeUndefined();
    expect(s.notes).toEqual([expect.stringMatching(/^libm\.so\.6 is unusable: no cblas_sgemm/)]);
  });

  it("the run's tags say which path runs the products, and the library", async () => {
    const report = await initBackend('wasm');
    const tags = backendTags(report);
    expect(tags['bonsai.backend.products']).toBe(found.library ? 'blas' : 'xnnpack');
    expect(tags['bonsai.backend.blas']).toBe(found.library?.name);
    expect(tags['bonsai.backend.threads']).toBe(String(report.threads));
  });

  it('no library: the report says products run on XNNPACK, in one line', () => {
    const path = chooseProductPath(2, { tried: ['libopenblas.so.0'], notes: [] });
    expect(path).toEqual({ path: 'xnnpack', note: 'no BLAS library found (looked for libopenblas.so.0): products run on XNNPACK' });
    expect(activeBlas()).toBeUndefined();
    expect(useBlas(true)).toBe(found.library !== undefined);
  });
});

for (const path of ['blas', 'xnnpack'] as const) {
  describe.runIf(path === 'xnnpack' || found.library)(`wasm products on ${path} equal cpu`, () => {
    const want = new Map<string, Float32Array>();
    beforeAll(async () => {
      await initBackend('cpu');
      for (const c of CASES) want.set(c.name, run(c));
      const report = await initBackend('wasm');
      expect(useBlas(path === 'blas')).toBe(path === 'blas');
      if (path === 'blas') expect(describeBackend(report)).toMatch(/products on \S/);
    });
    afterAll(() => useBlas(true));

    for (const c of CASES) {
      it.skipIf(path === 'xnnpack' && c.wrongOnXnnpack)(c.name, () => {
        takeProductCounts();
        const got = run(c);
        expect(relErr(got, want.get(c.name)!)).toBeLessThan(TOL);
        const counts = takeProductCounts();
        if (path === 'xnnpack') expect(counts.blas).toBe(0);
        else if (c.activation !== 'prelu') expect(counts).toEqual({ blas: 1, xnnpack: 0 });
        else expect(counts).toEqual({ blas: 0, xnnpack: 1 });
      });
    }

    it('leaves no tensors behind', () => {
      for (const c of CASES) run(c);
      const before = tf.memory().numTensors;
      for (const c of CASES) run(c);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe.runIf(found.library?.name.startsWith('OpenBLAS'))('OpenBLAS determinism', () => {
  it('the same product twice at 2 threads is bit-identical', async () => {
    await initBackend('wasm');
    useBlas(true);
    found.library!.setThreads!(2);
    const c: Case = { name: 'weight gradient xᵀ·dy', a: [96, 128], b: [96, 512], tA: true };
    expect(Array.from(run(c))).toEqual(Array.from(run(c)));
  });
});
