/**
 * Cost of the K-FAC edit, side by side with training on the same model in one process:
 * curvature collection time per token (sampled and empirical Fisher) against one AdamW
 * training step's time per token, then the eigen-decompositions and the edit itself.
 *   node bin/run-ts.js bench/kfac.ts [--backend auto] [--model memorisation|reference] [--rounds 3]
 * memorisation: the model of docs/results/memorisation.md (d 64, 2 layers, 15 tokens);
 * reference: bench/config.ts's model. Timings on a shared machine are noisy; the ratio is
 * the number to read (both sides run on the same batches, interleaved, in one process).
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend } from '../src/backend/index.ts';
import type { Example } from '../src/data/types.ts';
import { collectKfacFactors, editWeight, factorEigen, resolveTargets, type FisherKind } from '../src/gradients/index.ts';
import { HookedTransformer, modelConfig } from '../src/models/index.ts';
import { AdamW, createTrainStep, type LmBatch } from '../src/trainer/index.ts';
import { Rng } from '../src/util/rng.ts';
import { table } from '../src/util/table.ts';
import { REFERENCE } from './config.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : d);
const ROUNDS = Number(flag('--rounds', '3'));
const backend = await initBackend(flag('--backend', 'auto') as 'auto');
const which = flag('--model', 'memorisation');
const config =
  which === 'reference'
    ? modelConfig({ vocabSize: REFERENCE.vocabSize, dModel: REFERENCE.dModel, nLayers: REFERENCE.nLayers, nHeads: REFERENCE.nHeads, dMlp: REFERENCE.dMlp, nCtx: REFERENCE.nCtx })
    : modelConfig({ vocabSize: 257, dModel: 64, nLayers: 2, nHeads: 4, nCtx: 16, tiedEmbeddings: false });
const T = which === 'reference' ? REFERENCE.nCtx : 15;
const B = which === 'reference' ? REFERENCE.batchSize : 32;
const rng = new Rng(0);
const examples: Example[] = Array.from({ length: 4 * B }, () => ({
  ids: Int32Array.from({ length: T + 1 }, () => rng.int(Math.min(config.vocabSize, 250))),
  lossMask: Uint8Array.from({ length: T + 1 }, (_, t) => (t === 0 ? 0 : 1)),
}));
const batchOf = (k: number): LmBatch => {
  const rows = examples.slice((k % 4) * B, (k % 4 + 1) * B);
  const inputs = Int32Array.from(rows.flatMap((e) => Array.from(e.ids.subarray(0, T))));
  const targets = Int32Array.from(rows.flatMap((e) => Array.from(e.ids.subarray(1))));
  return { inputs, targets, weights: new Float32Array(B * T).fill(1), batchSize: B, seqLen: T };
};

console.log(`${describeBackend(backend)}\nmodel: d_model ${config.dModel}, ${config.nLayers} layers, d_mlp ${config.dMlp}, vocab ${config.vocabSize}; batch ${B} × ${T} tokens; MLP matrices targeted`);
const model = HookedTransformer.create(config, 1);
const sites = resolveTargets(model, ['blocks.*.mlp.W_in', 'blocks.*.mlp.W_out']);
const step = createTrainStep({ model, optimizer: new AdamW({ lr: 1e-4 }), transforms: [] });
const best = { train: Infinity, sampled: Infinity, empirical: Infinity };
step(batchOf(0)); // warm-up: kernels compiled, optimizer state made
collectKfacFactors(model, sites, examples.slice(0, B), { fisher: 'sampled', tokens: 1, batchSize: B });
const tensors = tf.memory().numTensors;
for (let r = 0; r < ROUNDS; r++) {
  let t0 = performance.now();
  for (let k = 0; k < 4; k++) step(batchOf(k), undefined, false);
  best.train = Math.min(best.train, (performance.now() - t0) / (4 * B * T));
  for (const fisher of ['sampled', 'empirical'] as FisherKind[]) {
    t0 = performance.now();
    const f = collectKfacFactors(model, sites, examples, { fisher, tokens: 4 * B * T, batchSize: B });
    best[fisher] = Math.min(best[fisher], (performance.now() - t0) / f.tokens);
  }
}
const leaked = tf.memory().numTensors - tensors;
const factors = collectKfacFactors(model, sites, examples, { fisher: 'sampled', tokens: 4 * B * T, batchSize: B });
let t0 = performance.now();
const eigen = factorEigen(factors);
const eigenS = (performance.now() - t0) / 1000;
const values = model.valuesSync();
t0 = performance.now();
for (const s of sites) editWeight(values.get(s.path)!, factors.factors.get(s.path)!, eigen.get(s.path)!, 0.6);
const editS = (performance.now() - t0) / 1000;
const us = (x: number) => `${(x * 1000).toFixed(1)} µs`;
console.log(
  table([
    ['what', 'time', 'vs one training step'],
    ['training step (AdamW), per token', us(best.train), '1.00×'],
    ['curvature, sampled Fisher, per token', us(best.sampled), `${(best.sampled / best.train).toFixed(2)}×`],
    ['curvature, empirical Fisher, per token', us(best.empirical), `${(best.empirical / best.train).toFixed(2)}×`],
    [`eigen-decompositions (${sites.length} targets: A and G)`, `${eigenS.toFixed(2)} s`, ''],
    [`edit at ρ = 0.6 (${sites.length} targets, factors decomposed)`, `${editS.toFixed(2)} s`, ''],
  ]),
);
console.log(`best of ${ROUNDS} rounds; tensors after the timed rounds: ${leaked >= 0 ? '+' : ''}${leaked}`);
model.dispose();
if (leaked !== 0) process.exit(1);
