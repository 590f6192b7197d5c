/**
 * Step-time overhead of each gradient transform and intervention, side by side with the
 * plain step, in one process on one model: `node bin/run-ts.js bench/transforms.ts
 * [--rounds 3] [--backend auto]`. Goals (issue 4): project_out ≤ 15% with U refreshed
 * every 10 steps, freezing ≤ 2%, interventions ≤ 5%. Exits 1 if any arm leaks tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, describeBackend } from '../src/backend/index.ts';
import { Freezer } from '../src/gradients/freeze.ts';
import { ablateHook, steerHook } from '../src/gradients/interventions.ts';
import { pcgradTransform } from '../src/gradients/pcgrad.ts';
import { observeTransform, projectOutTransform } from '../src/gradients/project.ts';
import { selectGlob, selectHeads, unionSelections } from '../src/gradients/select.ts';
import { clipTransform, type GradientTransform, type NamedGrads } from '../src/gradients/index.ts';
import type { ForwardOptions } from '../src/models/hooks.ts';
import { HookedTransformer, modelConfig } from '../src/models/index.ts';
import { AdamW, computeGradients, createTrainStep, lmLoss, type LmBatch } from '../src/trainer/index.ts';
import { Rng } from '../src/util/rng.ts';
import { randomBatch } from '../test/helpers/tiny.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : d);
const ROUNDS = Number(flag('--rounds', '3'));
const backend = await initBackend(flag('--backend', 'auto') as 'auto');
const config = modelConfig({ vocabSize: 256, dModel: 64, nLayers: 2, nHeads: 4, nCtx: 64 });
const B = 8;
const T = 64;

/** A random batch of tokens from a 64-symbol vocabulary (the test helper, so both agree). */
function batch(seed: number): LmBatch {
  return randomBatch(seed, B, T, 64);
}

interface Arm {
  name: string;
  make(m: HookedTransformer, opt: AdamW): { transforms: GradientTransform[]; forward?: ForwardOptions; dispose(): void };
}

/** Gradients of the loss on fresh random batches: the "other data" for surgery. */
function gradsOf(m: HookedTransformer): () => NamedGrads {
  let s = 1000;
  return () => {
    const b = batch(s++);
    return computeGradients(m, () => lmLoss(m, b)).grads;
  };
}

const rows = (k: number, seed: number) => { const r = new Rng(seed); return Array.from({ length: k }, () => Array.from({ length: 64 }, () => r.normal())); };
const none = () => {};
const ARMS: Arm[] = [
  { name: 'plain', make: () => ({ transforms: [], dispose: none }) },
  { name: 'clip', make: () => ({ transforms: [clipTransform(1)], dispose: none }) },
  {
    name: 'freeze (blocks.0.attn.* + 2 heads)',
    make: (m, opt) => {
      const f = new Freezer(m.params, unionSelections([selectGlob(m.params, 'blocks.0.attn.*'), selectHeads(m.params, 'blocks.1.attn[0,1]', 4)]));
      f.install(opt); // the gradient mask and AdamW's, both
      return { transforms: [], dispose: () => f.dispose() };
    },
  },
  ...[8, 4, 1].map((n) => ({
    name: `project_out (U from ${n} batch${n > 1 ? 'es' : ''} every 10 steps)`,
    make: (m: HookedTransformer) => {
      const next = gradsOf(m);
      const t = projectOutTransform({ source: { kind: 'gradients', sample: () => Array.from({ length: n }, next), every: 10 }, topK: 4 });
      return { transforms: [t], dispose: () => t.dispose!() };
    },
  })),
  {
    name: 'project_out (fixed U, k=4)',
    make: (m) => {
      const next = gradsOf(m);
      const vectors = Array.from({ length: 4 }, next);
      const t = projectOutTransform({ source: { kind: 'fixed', vectors }, topK: 4 });
      return { transforms: [t], dispose: () => (t.dispose!(), vectors.forEach((v) => tf.dispose(Object.values(v)))) };
    },
  },
  { name: 'pcgrad (1 objective)', make: (m) => ({ transforms: [pcgradTransform({ objectives: { other: gradsOf(m) } })], dispose: none }) },
  {
    name: 'observe (1 direction, every 10)',
    make: (m) => {
      const t = observeTransform({ directions: { other: gradsOf(m) }, every: 10 });
      return { transforms: [t], dispose: () => t.dispose!() };
    },
  },
  {
    name: 'ablate (k=4, blocks.0.hook_resid_post)',
    make: () => {
      const { fn, q } = ablateHook(rows(4, 1));
      return { transforms: [], forward: { hooks: [{ at: 'blocks.0.hook_resid_post', fn }] }, dispose: () => q.dispose() };
    },
  },
  {
    name: 'steer (blocks.0.hook_resid_post)',
    make: () => {
      const { fn, v } = steerHook(rows(1, 2)[0]!, 4);
      return { transforms: [], forward: { hooks: [{ at: 'blocks.0.hook_resid_post', fn }] }, dispose: () => v.dispose() };
    },
  },
];

console.log(`${describeBackend(backend)}\nmodel d_model 64, 2 layers, batch ${B}×${T}; each arm timed against a plain step in alternating blocks of 10 steps (${ROUNDS} rounds × 4 blocks after 5 warmup steps each); overhead = median of the paired block ratios\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let leaked = false;

/** A model, optimizer and step for an arm; `timeBlock` runs 10 steps (one refresh, one logged step) and returns ms/step. */
function setup(arm: Arm) {
  const m = HookedTransformer.create(config, 1);
  const opt = new AdamW({ lr: 1e-3, weightDecay: 0.1 });
  const a = arm.make(m, opt);
  const step = createTrainStep({ model: m, optimizer: opt, transforms: a.transforms, forward: a.forward });
  for (let i = 0; i < 5; i++) step(batch(i));
  let s = 100;
  return {
    timeBlock() {
      const t0 = performance.now();
      // As in a run with log_every 10: transform stats are computed on the logged steps only.
      for (let i = 0; i < 10; i++) step(batch(s++), undefined, i === 9);
      return (performance.now() - t0) / 10;
    },
    close() {
      a.dispose();
      opt.dispose();
      m.dispose();
    },
  };
}

// Paired blocks: this machine's speed drifts by tens of percent over a minute (a shared VM),
// so each arm is compared with a plain step timed right next to it, block by block.
const plainArm = ARMS[0]!;
const rowsOut: string[] = [];
const plainMs: number[] = [];
for (const arm of ARMS.slice(1)) {
  const ratios: number[] = [];
  const armMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const n0 = tf.memory().numTensors;
    const p = setup(plainArm);
    const a = setup(arm);
    for (let b = 0; b < 4; b++) {
      const [x, y] = b % 2 ? [a.timeBlock(), p.timeBlock()].reverse() : [p.timeBlock(), a.timeBlock()];
      plainMs.push(x!);
      armMs.push(y!);
      ratios.push(y! / x!);
    }
    p.close();
    a.close();
    if (tf.memory().numTensors !== n0) (leaked = true), console.error(`${arm.name}: leaked ${tf.memory().numTensors - n0} tensors`);
  }
  rowsOut.push(`| ${arm.name} | ${median(armMs).toFixed(1)} | ${(100 * (median(ratios) - 1)).toFixed(1)}% |`);
}
console.log('| step | ms/step | overhead vs plain (paired) |\n| --- | --- | --- |');
console.log(`| plain | ${median(plainMs).toFixed(1)} | — |`);
console.log(rowsOut.join('\n'));
process.exit(leaked ? 1 : 0);
