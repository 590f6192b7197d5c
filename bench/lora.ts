/**
 * `node bin/run-ts.js bench/lora.ts`: what LoRA adapters save in optimizer state.
 *
 * Two parts, labelled in the output:
 *  - computed: a SmolLM2-135M-shaped model (vocab 49,152, d_model 576, 30 layers, 9 query /
 *    3 key-value heads, MLP 1,536, tied embeddings) with LoRA r = 16 on every linear layer.
 *    Parameter counts come from bonsai's own tables (families/tensors.ts for the weights,
 *    lora/modules.ts for the adapters); bytes are counts × 4 (float32) × 2 (AdamW's m and v).
 *    No tensor is made: the full model's state alone is 1 GiB.
 *  - measured: the same formula checked against the AdamW state bonsai actually holds after one
 *    real step (computeGradients → applyGradients) on a small GPT-2-style model, with and
 *    without adapters, read back with optimizer.stateSync() and tf.memory().
 */
import * as tf from '@tensorflow/tfjs';
import { initialAdapters, LoraAdapters } from '../src/lora/adapters.ts';
import { attachLora, trainableParams } from '../src/lora/attach.ts';
import { peftModules } from '../src/lora/modules.ts';
import { isLoraTargetable, loraScale } from '../src/lora/settings.ts';
import type { DecoderConfig } from '../src/models/families/config.ts';
import { hfTensorSpecs } from '../src/models/families/tensors.ts';
import { SMOLLM2_135M } from './lora-shape.ts';
import { modelConfig } from '../src/models/index.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import { lmLoss } from '../src/trainer/loss.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { applyGradients, computeGradients } from '../src/trainer/seam.ts';
import { Rng } from '../src/util/rng.ts';

const MiB = 1024 * 1024;
const fmt = (n: number) => n.toLocaleString('en-US');
const adamBytes = (params: number) => params * 4 * 2;

// ---- computed: SmolLM2-135M shape
const smol: DecoderConfig = SMOLLM2_135M;
const r = 16;
const full = [...hfTensorSpecs(smol).values()].reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
const lora = peftModules(smol).reduce((n, m) => n + r * (m.inDim + m.parts.reduce((o, p) => o + p.outDim, 0)), 0);
console.log('LoRA optimizer memory (AdamW m + v, float32)\n');
console.log('| shape | trains | trainable params | AdamW state | gradients | how |');
console.log('|---|---|---:|---:|---:|---|');
const row = (shape: string, what: string, n: number, how: string) =>
  console.log(`| ${shape} | ${what} | ${fmt(n)} | ${(adamBytes(n) / MiB).toFixed(1)} MiB | ${((n * 4) / MiB).toFixed(1)} MiB | ${how} |`);
row('SmolLM2-135M', 'all weights', full, 'computed');
row('SmolLM2-135M', `LoRA r=${r}, every linear`, lora, 'computed');
console.log(`\nSmolLM2-135M: adapters are ${((100 * lora) / full).toFixed(2)}% of the weights; AdamW state ${(adamBytes(full) / adamBytes(lora)).toFixed(1)}x smaller with LoRA.\n`);

// ---- measured: a small GPT-2-style model, one real step each way
await tf.setBackend('cpu');
await tf.ready();
const cfg = modelConfig({ vocabSize: 256, dModel: 64, nLayers: 2, nHeads: 4, nCtx: 32, tiedEmbeddings: true });
const rng = new Rng(1);
const B = 4;
const T = 32;
const batch = {
  inputs: Int32Array.from({ length: B * T }, () => rng.int(256)),
  targets: Int32Array.from({ length: B * T }, () => rng.int(256)),
  weights: new Float32Array(B * T).fill(1), batchSize: B, seqLen: T,
};
function oneStep(withLora: boolean): { params: number; stateBytes: number; heldBytes: number } {
  const model = HookedTransformer.create(cfg, 3);
  let adapters: LoraAdapters | undefined;
  if (withLora) {
    const shapes = new Map([...model.params].filter(([p, v]) => isLoraTargetable(p, v.shape)).map(([p, v]) => [p, v.shape]));
    adapters = new LoraAdapters(shapes, initialAdapters(shapes, 8, loraScale(16, 8, false), 3), 0, 3);
    attachLora(model, adapters);
  }
  const optimizer = new AdamW({ lr: 1e-3 });
  const before = tf.memory().numBytes;
  const { loss, grads } = computeGradients(model, () => lmLoss(model, batch));
  applyGradients(model, grads, { optimizer, loss });
  const heldBytes = tf.memory().numBytes - before; // what the step left allocated: the optimizer's m and v
  const state = optimizer.stateSync();
  const stateBytes = [...state.tensors.values()].reduce((n, t) => n + t.data.byteLength, 0);
  const params = [...trainableParams(model).values()].reduce((n, v) => n + v.size, 0);
  optimizer.dispose();
  model.dispose();
  adapters?.dispose();
  return { params, stateBytes, heldBytes };
}
console.log('| shape | trains | trainable params | AdamW state (stateSync) | left allocated by the step (tf.memory) | formula params × 8 B |');
console.log('|---|---|---:|---:|---:|---:|');
for (const withLora of [false, true]) {
  const m = oneStep(withLora);
  console.log(`| d64 × 2 layers, vocab 256 | ${withLora ? 'LoRA r=8, every matrix' : 'all weights'} | ${fmt(m.params)} | ${fmt(m.stateBytes)} B | ${fmt(m.heldBytes)} B | ${fmt(adamBytes(m.params))} B |`);
}
console.log('\nmeasured rows: one AdamW step on tfjs-cpu; the state is exactly trainable params × 8 bytes, as the computed rows assume.');
