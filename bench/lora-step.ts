/**
 * Issue 14's bench row (a), bonsai's side: real LoRA training steps on a SmolLM2-135M-shaped
 * Llama (vocab 49,152, d_model 576, 30 layers, 9 query / 3 key-value heads, MLP 1,536,
 * context 256, tied embeddings, random init) with r = 16 on every linear layer of every block
 * (PEFT's `all-linear`: q/k/v/o/gate/up/down_proj), batch 2 × 256, AdamW on the adapters,
 * chunked cross-entropy (`ce_chunk: auto`), on wasm (bonsai's default here, 1 thread).
 *
 *   node bin/run-ts.js bench/lora-step.ts [--recompute 0|1] [--warmup 1] [--steps 2] [--layers 30] [--estimate-only]
 *
 * One setting per process: the wasm heap never shrinks, so its size after the steps minus
 * its size before the model was built is the steps' high-water mark (weights included), the
 * quantity bench/memory-peak.ts measures. Prints one JSON line `LORA_STEP {...}` with
 * tokens/s (median timed step), the measured peak, and bonsai's pre-step estimate
 * (trainer/memory-check.ts's shape → memory-estimate.ts) beside it.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { outOfMemoryError } from '../src/backend/oom.ts';
import { attachRecipeLora } from '../src/lora/build.ts';
import { trainableParams } from '../src/lora/attach.ts';
import type { DecoderConfig } from '../src/models/families/config.ts';
import { ALL_LINEAR, ROW_A, SMOLLM2_135M } from './lora-shape.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import { estimateStepMemory } from '../src/trainer/memory-estimate.ts';
import { stepShapeOf } from '../src/trainer/memory-check.ts';
import type { Recipe } from '../src/recipe/schema.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { createTrainStep } from '../src/trainer/seam.ts';
import { randomBatch } from '../test/helpers/tiny.ts';


const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const recompute = arg('recompute', '0') === '1';
const warmup = Number(arg('warmup', '1'));
const steps = Number(arg('steps', '2'));

const backend = await initBackend('wasm');
const heap = () => {
  const w = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } } }).wasm;
  return (w.wasmMemory?.buffer ?? w.HEAPU8.buffer).byteLength;
};
const base = heap();
// --layers N: fewer blocks (for timing a piece of the step; the bench row uses all 30).
const cfg: DecoderConfig = { ...SMOLLM2_135M, nLayers: Number(arg('layers', String(SMOLLM2_135M.nLayers))) };
const { r, alpha, batchSize: B, seqLen: T } = ROW_A;
const model = HookedTransformer.create(cfg, 0);
console.error(`model built: ${model.numParams()} parameters, heap ${(heap() / 1e6).toFixed(0)} MB`);
const adapters = attachRecipeLora({ r, alpha, dropout: 0, rslora: false, targets: ALL_LINEAR }, model, 0);
const trainable = [...trainableParams(model).values()].reduce((n, v) => n + v.size, 0);
const optimizer = new AdamW({ lr: ROW_A.lr, weightDecay: 0 });
const step = createTrainStep({ model, optimizer, transforms: [], ceChunk: 'auto', forward: { recompute } });
// The estimate `bonsai train` makes before the first step (trainer/memory-check.ts), for these settings.
const recipeSettings = { trainer: { kind: 'sft', batch_size: B, grad_accum: 1 }, memory: { ce_chunk: 'auto', recompute } } as unknown as Recipe;
const est = estimateStepMemory(stepShapeOf(recipeSettings, model, T));
if (process.argv.includes('--estimate-only')) {
  console.log(`LORA_ESTIMATE ${JSON.stringify({ recompute, layers: cfg.nLayers, ...Object.fromEntries(Object.entries(est).map(([k, v]) => [k + 'MB', +(v / 1e6).toFixed(1)])) })}`);
  process.exit(0);
}

const times: number[] = [];
const losses: number[] = [];
const tensors: number[] = [];
for (let s = 0; s < warmup + steps; s++) {
  const batch = randomBatch(100 + s, B, T, cfg.vocabSize);
  const t0 = performance.now();
  let res: ReturnType<typeof step>;
  try {
    res = step(batch, undefined, false);
  } catch (e) {
    // Out of memory is a result here, not a crash: say so, with the heap it reached and the estimate.
    const oom = outOfMemoryError(e);
    const failed = oom ? `out of memory at step ${s} (heap ${(heap() / 1e6).toFixed(0)} MB)` : `step ${s} failed: ${String(e).split('\n')[0]}`;
    console.log(`LORA_STEP ${JSON.stringify({ recompute, failed, heapAtFailureMB: +(heap() / 1e6).toFixed(1), estimateMB: +(est.peak / 1e6).toFixed(1) })}`);
    process.exit(0);
  }
  if (s >= warmup) times.push(performance.now() - t0);
  losses.push(res.loss);
  tensors.push(tf.memory().numTensors);
  console.error(`step ${s}: ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${res.loss.toFixed(4)}, heap ${(heap() / 1e6).toFixed(0)} MB`);
}
const med = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
const measured = heap() - base;
const result = {
  backend: backend.name, recompute, params: model.numParams(), trainable, adapters: adapters.params.size / 2,
  warmup, steps, stepMsMedian: +med.toFixed(0), tokensPerSec: +((B * T * 1000) / med).toFixed(1),
  measuredPeakMB: +(measured / 1e6).toFixed(1), estimateMB: +(est.peak / 1e6).toFixed(1), estimateOverMeasured: +(est.peak / measured).toFixed(3),
  estimateParts: Object.fromEntries(Object.entries(est).map(([k, v]) => [k, +(v / 1e6).toFixed(1)])),
  heapMaxMB: 2 ** 32 / 1e6, losses: losses.map((l) => +l.toFixed(4)), tensorGrowth: tensors.slice(1).map((n, i) => n - tensors[i]!),
};
console.log(`LORA_STEP ${JSON.stringify(result)}`);
optimizer.dispose();
model.dispose();
adapters.dispose();
