/**
 * Where a reference-shape training step's CPU time goes, kernel by kernel: every wasm kernel
 * is wrapped to add up process.cpuUsage() around its outermost calls, and the rest of the
 * step's CPU time is tfjs's engine, the tape and bonsai's JavaScript. CPU time (not wall
 * time, which tf.profile reports) stays readable on a machine other jobs are loading.
 *
 *   node bin/run-ts.js bench/kernel-cpu.ts [--threads 1] [--steps 20]   (BONSAI_BLAS=off: the XNNPACK path)
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend } from '../src/backend/index.ts';
import { HookedTransformer } from '../src/models/index.ts';
import { AdamW, createTrainStep, type LmBatch } from '../src/trainer/index.ts';
import { Rng } from '../src/util/rng.ts';
import { parseArgs, REFERENCE as cfg } from './config.ts';

const args = parseArgs(process.argv.slice(2));
const report = await initBackend('wasm', { threads: Number(args.threads ?? 1) });
const steps = Number(args.steps ?? 20);
const model = HookedTransformer.create({ ...cfg, layerNormEps: 1e-5, initStd: 0.02 }, cfg.seed);
const step = createTrainStep({ model, optimizer: new AdamW({ lr: cfg.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: cfg.weightDecay }), transforms: [] });
const rng = new Rng(cfg.seed);
const n = cfg.batchSize * cfg.nCtx;
const ids = () => Int32Array.from({ length: n }, () => rng.nextUint32() % cfg.vocabSize);
const batch = (): LmBatch => ({ inputs: ids(), targets: ids(), weights: new Float32Array(n).fill(1), batchSize: cfg.batchSize, seqLen: cfg.nCtx });
for (let i = 0; i < 5; i++) step(batch()); // warm, and registers the kernels bonsai adds lazily

const spent = new Map<string, { us: number; calls: number }>();
let depth = 0; // a kernel calling another (Sum → BatchMatMul) counts once, as the outer one
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (a) => {
      if (depth > 0) return inner(a);
      depth++;
      const c0 = process.cpuUsage();
      try {
        return inner(a);
      } finally {
        depth--;
        const c = process.cpuUsage(c0);
        const e = spent.get(k.kernelName) ?? { us: 0, calls: 0 };
        e.us += c.user + c.system;
        e.calls++;
        spent.set(k.kernelName, e);
      }
    },
  });
}
for (let i = 0; i < 3; i++) step(batch());
spent.clear();
const c0 = process.cpuUsage();
for (let i = 0; i < steps; i++) step(batch());
const c = process.cpuUsage(c0);
const perStep = (c.user + c.system) / steps / 1000;
const rows = [...spent].map(([name, e]) => ({ name, ms: e.us / steps / 1000, calls: e.calls / steps })).sort((a, b) => b.ms - a.ms);
const inKernels = rows.reduce((s, r) => s + r.ms, 0);
console.log(`${describeBackend(report)}\nreference shape, ${steps} steps: CPU ${perStep.toFixed(1)} ms/step, ${inKernels.toFixed(1)} in kernels, ${(perStep - inKernels).toFixed(1)} outside (engine, tape, JavaScript)`);
for (const r of rows.slice(0, 24)) console.log(`  ${r.name.padEnd(22)} ${r.ms.toFixed(2).padStart(7)} ms  ${r.calls.toFixed(0).padStart(5)} calls`);
