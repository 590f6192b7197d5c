/**
 * Measured peak memory of SFT train steps on wasm beside memory-estimate.ts's estimate.
 * One shape per process (the wasm heap never shrinks, so its size after the steps is the
 * high-water mark of those steps):
 *   node bin/run-ts.js bench/memory-peak.ts V D L H T B [chunk|auto] [recompute 0|1] [accum]
 * Prints one JSON line: measured heap growth, the estimate and their ratio.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { HookedTransformer, modelConfig } from '../src/models/index.ts';
import { AdamW, createTrainStep } from '../src/trainer/index.ts';
import { ceChunkRows } from '../src/models/chunked-ce.ts';
import { estimateStepMemory } from '../src/trainer/memory-estimate.ts';
import { randomBatch } from '../test/helpers/tiny.ts';

const a = process.argv.slice(2);
const [V, D, L, H, T, B] = a.slice(0, 6).map(Number) as [number, number, number, number, number, number];
const chunk = a[6] === undefined || a[6] === 'auto' ? 'auto' : Number(a[6]);
const recompute = a[7] === '1';
const accum = Number(a[8] ?? 1);
await initBackend('wasm');
const heap = () => {
  const w = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } } }).wasm;
  return (w.wasmMemory?.buffer ?? w.HEAPU8.buffer).byteLength;
};
const base = heap();
const config = modelConfig({ vocabSize: V, dModel: D, nLayers: L, nHeads: H, nCtx: T, tiedEmbeddings: true });
const model = HookedTransformer.create(config, 1);
const step = createTrainStep({ model, optimizer: new AdamW({ lr: 1e-3 }), transforms: [], ceChunk: chunk, forward: { recompute } });
const t0 = performance.now();
for (let s = 0; s < 2; s++) step(Array.from({ length: accum }, (_v, i) => randomBatch(s * 10 + i, B, T, V)));
const seconds = (performance.now() - t0) / 2000;
const est = estimateStepMemory({
  vocabSize: V, dModel: D, dMlp: config.dMlp, nHeads: H, nLayers: L, params: model.numParams(), trainableParams: model.numParams(),
  batchSize: B, seqLen: T, gradAccum: accum, ceChunkRows: ceChunkRows(V, chunk), recompute,
});
const measured = heap() - base;
console.log(JSON.stringify({ V, D, L, H, T, B, chunk, recompute, accum, measuredMB: +(measured / 1e6).toFixed(1), estimateMB: +(est.peak / 1e6).toFixed(1), ratio: +(est.peak / measured).toFixed(3), secondsPerStep: +seconds.toFixed(2) }));
