/**
 * Single products on the wasm backend's two paths, the platform's BLAS and XNNPACK, in one
 * process (alternating, fastest of many repeats): the measurement behind the routing rule in
 * src/backend/blas-kernels.ts (docs/backends.md).
 *
 *   node bin/run-ts.js bench/blas-products.ts [--threads N] [--shapes '[[M, K, N, tA, tB, batch], ...]']
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { useBlas } from '../src/backend/blas.ts';
import { activeBlas, setBlas, SKINNY_ROWS } from '../src/backend/blas-kernels.ts';
import { parseArgs } from './config.ts';

type Shape = [M: number, K: number, N: number, tA: boolean, tB: boolean, batch: number];

const DEFAULT: Shape[] = [
  [2, 2, 2, false, false, 1], [16, 16, 16, false, false, 1], [64, 64, 64, false, false, 1], [128, 128, 128, false, false, 1],
  // the reference shape's products (1024 tokens, d 128, d_mlp 512, vocab 256), forward and backward
  [1024, 128, 128, false, false, 1], [1024, 128, 512, false, false, 1], [1024, 512, 128, false, false, 1], [1024, 128, 256, false, true, 1],
  [1024, 512, 128, false, true, 1], [128, 1024, 512, true, false, 1],
  // attention's per-head products (16 sequences x 4 heads, T 64, dh 32)
  [64, 32, 64, false, true, 64], [64, 64, 32, false, false, 64],
  // SmolLM2-135M-sized: a linear of 512 tokens, LoRA's doubly transposed ΔW, decode steps against the vocabulary
  [512, 576, 1536, false, false, 1], [576, 16, 1536, true, true, 1], [8, 576, 1536, false, false, 1],
  [1, 576, 49152, false, false, 1], [8, 576, 49152, false, false, 1], [16, 576, 49152, false, false, 1], [32, 576, 49152, false, false, 1],
  [8, 576, 49152, false, true, 1],
];

const args = parseArgs(process.argv.slice(2));
const report = await initBackend('wasm', args.threads ? { threads: Number(args.threads) } : {});
const blas = activeBlas();
if (!blas) {
  console.error(`no BLAS here (${report.products?.note}); nothing to compare`);
  process.exit(1);
}
const shapes = (args.shapes ? JSON.parse(args.shapes) : DEFAULT) as Shape[];
console.log(`${report.threads} threads, ${blas.name}; ms per product (fastest of repeats), GFLOP/s`);

function fastest(f: () => void, reps: number): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

for (const [M, K, N, tA, tB, G] of shapes) {
  const a = tf.randomNormal(G > 1 ? (tA ? [G, K, M] : [G, M, K]) : tA ? [K, M] : [M, K]);
  const b = tf.randomNormal(G > 1 ? (tB ? [G, N, K] : [G, K, N]) : tB ? [N, K] : [K, N]);
  const run = () => tf.tidy(() => void tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB).dataSync());
  const macs = G * M * N * K;
  const reps = Math.max(3, Math.min(200, Math.round(2e8 / macs)));
  const times = { xnnpack: Infinity, blas: Infinity };
  for (let round = 0; round < 2; round++) {
    useBlas(false);
    run();
    times.xnnpack = Math.min(times.xnnpack, fastest(run, reps));
    setBlas(blas, { skinnyRows: 0 }); // every product to BLAS, whatever the routing rule says
    run();
    times.blas = Math.min(times.blas, fastest(run, reps));
  }
  setBlas(blas, { skinnyRows: SKINNY_ROWS });
  const gf = (ms: number) => ((2 * macs) / ms / 1e6).toFixed(1);
  const name = `${G > 1 ? `${G} x ` : ''}[${M}x${K}]${tA ? 'ᵀ' : ''}·[${K}x${N}]${tB ? 'ᵀ' : ''}`;
  console.log(`  ${name.padEnd(30)} XNNPACK ${times.xnnpack.toFixed(3).padStart(9)} ms (${gf(times.xnnpack).padStart(6)})   BLAS ${times.blas.toFixed(3).padStart(9)} ms (${gf(times.blas).padStart(6)})   BLAS ${(times.xnnpack / times.blas).toFixed(2)}x`);
  tf.dispose([a, b]);
}
