/**
 * Where a LoRA step's memory goes on wasm, per depth: one train step of the SmolLM2-135M
 * shape (bench/lora-step.ts) cut to L blocks, printing three numbers side by side:
 *   - peakLiveMB: the most tensor memory tfjs held at once (every `_malloc` tfjs-wasm makes
 *     for a tensor, minus its `_free`s: exact, but blind to XNNPACK's packed-weight caches
 *     and the allocator's own slack);
 *   - heapMB: the wasm heap's size after the step (its high-water mark: what hits 4 GiB);
 *   - estimateMB: bonsai's pre-step estimate (trainer/memory-check.ts).
 * Run it at two depths: the difference per block is what the estimate's per-block terms model.
 *
 *   node bin/run-ts.js bench/lora-memory.ts L [recompute 0|1]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { attachRecipeLora } from '../src/lora/build.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import type { Recipe } from '../src/recipe/schema.ts';
import { stepShapeOf } from '../src/trainer/memory-check.ts';
import { estimateStepMemory } from '../src/trainer/memory-estimate.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { createTrainStep } from '../src/trainer/seam.ts';
import { randomBatch } from '../test/helpers/tiny.ts';
import { ALL_LINEAR, ROW_A, SMOLLM2_135M } from './lora-shape.ts';

const L = Number(process.argv[2] ?? 1);
const recompute = process.argv[3] === '1';
await initBackend('wasm');
type Module = { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike }; _malloc(n: number): number; _free(p: number): void };
const wasm = (tf.backend() as unknown as { wasm: Module }).wasm;
const heap = () => (wasm.wasmMemory?.buffer ?? wasm.HEAPU8.buffer).byteLength;
// Count tensor allocations: tfjs-wasm allocates and frees every tensor's memory through these two.
const sizes = new Map<number, number>();
let live = 0;
let peak = 0;
const malloc = wasm._malloc.bind(wasm);
const free = wasm._free.bind(wasm);
wasm._malloc = (n) => {
  const p = malloc(n);
  sizes.set(p, n);
  live += n;
  peak = Math.max(peak, live);
  return p;
};
wasm._free = (p) => {
  live -= sizes.get(p) ?? 0;
  sizes.delete(p);
  free(p);
};
const base = heap();
const model = HookedTransformer.create({ ...SMOLLM2_135M, nLayers: L }, 0);
const { r, alpha, batchSize: B, seqLen: T } = ROW_A;
const adapters = attachRecipeLora({ r, alpha, dropout: 0, rslora: false, targets: ALL_LINEAR }, model, 0);
const settings = { trainer: { kind: 'sft', batch_size: B, grad_accum: 1 }, memory: { ce_chunk: 'auto', recompute } } as unknown as Recipe;
const est = estimateStepMemory(stepShapeOf(settings, model, T));
const modelBytes = live;
const step = createTrainStep({ model, optimizer: new AdamW({ lr: ROW_A.lr }), transforms: [], ceChunk: 'auto', forward: { recompute } });
step(randomBatch(1, B, T, SMOLLM2_135M.vocabSize), undefined, false);
const mb = (n: number) => +(n / 1e6).toFixed(1);
console.log(JSON.stringify({ layers: L, recompute, modelMB: mb(modelBytes), peakLiveMB: mb(peak), heapMB: mb(heap() - base), estimateMB: mb(est.peak) }));
adapters.dispose();
model.dispose();
