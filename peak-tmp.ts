import * as tf from '@tensorflow/tfjs';
import { modelConfig, HookedTransformer } from './src/models/index.ts';
import { computeGradients } from './src/trainer/seam.ts';
import { lmLoss } from './src/trainer/loss.ts';
import { randomBatch } from './test/helpers/tiny.ts';
await tf.setBackend('cpu');
const V = 4096;
const m = HookedTransformer.create(modelConfig({ vocabSize: V, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 64, tiedEmbeddings: false }), 1);
const batch = randomBatch(1, 4, 64, V);
for (const ceChunk of [256, 32]) {
  const before = tf.memory().numBytes;
  const prof = await tf.profile(() => { const r = computeGradients(m, () => lmLoss(m, batch, { ceChunk })); tf.dispose(Object.values(r.grads)); });
  let best = prof.kernels[0]!;
  for (const k of prof.kernels) if (k.totalBytesSnapshot > best.totalBytesSnapshot) best = k;
  const idx = prof.kernels.indexOf(best);
  console.log(ceChunk, before, prof.peakBytes - before, best.name, best.outputShapes, idx, prof.kernels.length);
  console.log(prof.kernels.slice(Math.max(0, idx - 12), idx + 1).map((k) => `${k.name} ${JSON.stringify(k.outputShapes)} ${k.totalBytesSnapshot - before}`).join('\n'));
}
{
  const before = tf.memory().numBytes;
  const prof = await tf.profile(() => { const r = computeGradients(m, () => lmLoss(m, batch, { ceChunk: 32 })); tf.dispose(Object.values(r.grads)); });
  let last = 0;
  prof.kernels.forEach((k, i) => { const d = k.totalBytesSnapshot - before; if (Math.abs(d - last) > 400000) { console.log(i, k.name, JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes), d); } last = d; });
}
