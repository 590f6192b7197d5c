/**
 * Where a LoRA step's time goes: one train step of bench row (a)'s shape (the SmolLM2-135M
 * Llama, r = 16 on every linear, batch 2 × 256) under tf.profile, after a warm-up step, with
 * the kernels' own times summed by kernel name and, for the products, by operand shapes.
 *
 *   node bin/run-ts.js bench/lora-profile.ts [--layers 2] [--recompute 0] [--top 25] [--shape qwen]
 *
 * Kernel times are wall times of each kernel call (wasm runs them synchronously); what they
 * leave out of the step's time is JS dispatch between kernels and the optimizer's host work.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { attachRecipeLora } from '../src/lora/build.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { createTrainStep } from '../src/trainer/seam.ts';
import { randomBatch } from '../test/helpers/tiny.ts';
import { ALL_LINEAR, QWEN25_05B, ROW_A, SMOLLM2_135M } from './lora-shape.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const recompute = arg('recompute', '0') === '1';
const top = Number(arg('top', '25'));
const shape = arg('shape', 'smollm2') === 'qwen' ? QWEN25_05B : SMOLLM2_135M;
const backend = await initBackend('wasm', { wasmThreads: Number(arg('threads', '1')) });
const cfg = { ...shape, nLayers: Number(arg('layers', '2')) };
const model = HookedTransformer.create(cfg, 0);
const { r, alpha, batchSize: B, seqLen: T } = ROW_A;
const adapters = attachRecipeLora({ r, alpha, dropout: 0, rslora: false, targets: ALL_LINEAR }, model, 0);
const optimizer = new AdamW({ lr: ROW_A.lr, weightDecay: 0 });
const step = createTrainStep({ model, optimizer, transforms: [], ceChunk: 'auto', forward: { recompute } });

let t0 = performance.now();
step(randomBatch(100, B, T, cfg.vocabSize), undefined, false);
const warm = performance.now() - t0;
t0 = performance.now();
const profile = await tf.profile(() => {
  step(randomBatch(101, B, T, cfg.vocabSize), undefined, false);
});
const wall = performance.now() - t0;

const byName = new Map<string, { ms: number; calls: number }>();
const byShape = new Map<string, { ms: number; calls: number }>();
const add = (m: Map<string, { ms: number; calls: number }>, k: string, ms: number) => {
  const e = m.get(k) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  m.set(k, e);
};
let kernelMs = 0;
for (const k of profile.kernels) {
  // A custom op (withGrad) is profiled as an "unnamed scope" whose time includes its kernels': not counted twice.
  if (k.name === 'unnamed scope') continue;
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  kernelMs += ms;
  add(byName, k.name, ms);
  if (/MatMul|Conv|Transpose/.test(k.name)) add(byShape, `${k.name} ${k.inputShapes.map((s) => `[${s?.join('×')}]`).join(' ')}`, ms);
}
const table = (m: Map<string, { ms: number; calls: number }>) =>
  [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, top).map(([k, v]) => `  ${v.ms.toFixed(0).padStart(7)} ms ${((100 * v.ms) / kernelMs).toFixed(1).padStart(5)}%  ${String(v.calls).padStart(5)}×  ${k}`).join('\n');
console.log(`${cfg.nLayers} layers, recompute ${recompute}, backend ${backend.name} (${backend.threads ?? 1} thread(s)); warm-up step ${(warm / 1000).toFixed(1)} s, profiled step ${(wall / 1000).toFixed(1)} s, ` +
  `kernels ${(kernelMs / 1000).toFixed(1)} s in ${profile.kernels.length} calls, peak tensor bytes ${(profile.peakBytes / 1e6).toFixed(0)} MB`);
console.log(`by kernel:\n${table(byName)}`);
console.log(`products and transposes by operand shapes:\n${table(byShape)}`);
optimizer.dispose();
adapters.dispose();
model.dispose();
