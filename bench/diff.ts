/**
 * `bonsai diff` time on the reference model (bench/config.ts), stage by stage, beside one
 * training step of the same model for scale: `node bin/run-ts.js bench/diff.ts [--rounds 3]
 * [--backend auto] [--sequences 256]`. Two checkpoints are written to a temp dir and diffed
 * as the CLI does (load both, weights, lens over the first 5 tokens of N sequences, report
 * with both fingerprints, JSON written). Exits 1 if a diff leaks tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend } from '../src/backend/index.ts';
import { diffReport, loadModelAt, writeDiffReport } from '../src/diff/index.ts';
import { activationDiffLens } from '../src/diff/lens.ts';
import { weightDiff } from '../src/diff/weights.ts';
import { HookedTransformer, modelConfig } from '../src/models/index.ts';
import { AdamW, createTrainStep } from '../src/trainer/index.ts';
import { saveCheckpoint } from '../src/models/checkpoint.ts';
import { Rng } from '../src/util/rng.ts';
import { randomBatch } from '../test/helpers/tiny.ts';
import { median, REFERENCE } from './config.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : d);
const ROUNDS = Number(flag('--rounds', '3'));
const N = Number(flag('--sequences', '256'));
const backend = await initBackend(flag('--backend', 'auto') as 'auto');
const { vocabSize, dModel, nLayers, nHeads, dMlp, nCtx, tiedEmbeddings } = REFERENCE;
const config = modelConfig({ vocabSize, dModel, nLayers, nHeads, dMlp, nCtx, tiedEmbeddings });

const dir = mkdtempSync(join(tmpdir(), 'bonsai-bench-diff-'));
for (const [name, seed] of [['a', 0], ['b', 1]] as const) {
  const m = HookedTransformer.create(config, seed);
  saveCheckpoint(join(dir, name), { config, tokenizer: 'byte', weights: m.valuesSync() });
  m.dispose();
}
const rng = new Rng(3);
const sequences = Array.from({ length: N }, () => Array.from({ length: nCtx }, () => rng.int(vocabSize)));

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};
const stages = { load: [] as number[], weights: [] as number[], lens: [] as number[], report: [] as number[], total: [] as number[] };
let leaked = 0;
for (let round = 0; round < ROUNDS + 1; round++) {
  const n0 = tf.memory().numTensors;
  const [[a, b], load] = time(() => [loadModelAt(join(dir, 'a')), loadModelAt(join(dir, 'b'))]);
  const [weights, w] = time(() => weightDiff(config, a.model.valuesSync(), b.model.valuesSync()));
  const [lens, l] = time(() => activationDiffLens(a.model, b.model, b.tokenizer, sequences, { positions: [0, 1, 2, 3, 4] }));
  const [, r] = time(() => writeDiffReport(join(dir, 'diff.json'), diffReport({ weights, lens, probes: [], positions: [0, 1, 2, 3, 4] }, a, b)));
  a.model.dispose();
  b.model.dispose();
  leaked += tf.memory().numTensors - n0;
  if (round === 0) continue; // warm-up
  for (const [k, v] of [['load', load], ['weights', w], ['lens', l], ['report', r], ['total', load + w + l + r]] as const) stages[k].push(v);
}

// One training step of the same model (batch 16 × 64 tokens, AdamW), for scale.
const m = HookedTransformer.create(config, 0);
const opt = new AdamW({ lr: 1e-3, weightDecay: 0.01 });
const step = createTrainStep({ model: m, optimizer: opt, transforms: [] });
for (let i = 0; i < 3; i++) step(randomBatch(i, 16, nCtx, vocabSize));
const stepMs = median(Array.from({ length: 5 }, (_, i) => time(() => step(randomBatch(10 + i, 16, nCtx, vocabSize)))[1]));
m.dispose();
opt.dispose();

console.log(`${describeBackend(backend)}; reference model d_model ${dModel}, ${nLayers} layers, d_mlp ${dMlp}, context ${nCtx}; lens over the first 5 tokens of ${N} sequences; median of ${ROUNDS} (shared cores: noisy)`);
console.log('| bonsai diff stage | ms |\n| --- | --- |');
for (const [k, v] of Object.entries(stages)) console.log(`| ${k} | ${median(v).toFixed(1)} |`);
console.log(`| (one training step, batch 16 × ${nCtx}) | ${stepMs.toFixed(1)} |`);
if (leaked !== 0) {
  console.error(`FAIL: the diff leaked ${leaked} tensors`);
  process.exit(1);
}
