/**
 * Preventative steering on the side-behaviour task, with what the gradient does to the
 * steering direction. Per seed: train the plain arm, take a direction from it, train the
 * steered arm, and every `--every` steps of both runs record
 *   - B: P("Z" first) on c-prompts, and tic: P("Z" first) on a-prompts (no hooks);
 *   - shift: the mean activation at the hook at the "=" position of c-prompts, minus the
 *     same at step 0, projected on the unit direction v̂ (no hooks: what the weights learnt);
 *   - grad: the training loss's gradient with respect to that activation at the "=" position
 *     of A's examples, projected on v̂ (with the run's own hooks: the pressure along v̂ that
 *     the weights follow), and its share of the gradient's norm.
 *
 *   node bin/run-ts.js scripts/side/steer.ts [--seeds 0] [--direction persona|decision|shift|unembed]
 *     [--hook blocks.0.hook_resid_post] [--coef 1] [--every 25] [--out runs/side-steer]
 *
 * --coef is in units of the direction's own scale (persona, decision and shift: the mean
 * difference's norm; unembed: 1 = the norm of the plain model's mean activation at the hook).
 * Directions (all from the plain-fine-tuned model, at --hook):
 *   persona:  the shipped recipe's vector: mean activation over counted positions of "Z"
 *             responses minus letter responses on c-prompts (bench/tasks/side.ts);
 *   decision: at the "=" position only, A's prompts (the model says "Z" next) minus the same
 *             model's activations at the "Z" position (it says a letter next);
 *   shift:    the fine-tuning shift at "=" on c-prompts (plain model minus the initial one);
 *   unembed:  the residual direction that raises Z's logit through the plain model's
 *             unembedding (W_U[:, Z] minus the mean column; only meaningful at the last block).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { writeSideData } from '../../bench/tasks/side.ts';
import { examples, recipeFor, tokenProb } from '../../bench/tasks/common.ts';
import { initBackend } from '../../src/backend/index.ts';
import { evalBatches, type Example } from '../../src/data/index.ts';
import { collectActivations, meanDifference } from '../../src/gradients/directions.ts';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import type { CausalLM } from '../../src/models/model.ts';
import type { ForwardOptions } from '../../src/models/hooks.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildData, buildTransforms } from '../../src/trainer/build.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { buildInterventions } from '../../src/trainer/design.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { runSft } from '../../src/trainer/sft.ts';
import { Freezer } from '../../src/gradients/freeze.ts';
import { selectGlob } from '../../src/gradients/select.ts';

const args = process.argv.slice(2);
const opt = (flag: string, dflt: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1]! : dflt);
const seeds = opt('--seeds', '0').split(',').map(Number);
const kind = opt('--direction', 'persona');
const hook = opt('--hook', 'blocks.0.hook_resid_post');
const coefs = opt('--coef', '1').split(',').map(Number);
const every = Number(opt('--every', '25'));
const out = opt('--out', 'runs/side-steer');
const freezeGlob = args.includes('--freeze') ? opt('--freeze', '') : undefined;
// --at-eq: add the vector only at the "=" position (token 4), where the tic is decided, not at every position.
const atEq = args.includes('--at-eq');
const DIR = 'data/tasks/side';
const Z = 'Z'.charCodeAt(0);
const EQ_POS = 4; // `a l1 l2 l3 =`: the "=" is token 4, the position that predicts the first answer token

writeSideData();
const aEval = examples(`${DIR}/a_eval.jsonl`, 7);
const probe = examples(`${DIR}/probe.jsonl`, 7);
const aTrain = examples(`${DIR}/a_train.jsonl`, 7).slice(0, 128);
const gradBatch = evalBatches(aTrain, 128)[0]!;
const tok = createTokenizer('byte');

/** Activations at the hook at the "=" position, mean over examples (no hooks). */
function meanAtEq(m: CausalLM, ex: readonly Example[]): Float64Array {
  const ids = tf.tensor2d(Int32Array.from(ex.flatMap((e) => Array.from(e.ids.subarray(0, 6)))), [ex.length, 6], 'int32');
  const { logits, cache } = m.forward(ids, { cache: hook });
  const a = cache.get(hook).dataSync() as Float32Array; // [N, 6, D]
  const D = a.length / (ex.length * 6);
  const mean = new Float64Array(D);
  for (let n = 0; n < ex.length; n++) for (let d = 0; d < D; d++) mean[d] += a[(n * 6 + EQ_POS) * D + d]! / ex.length;
  tf.dispose([ids, logits]);
  cache.dispose();
  return mean;
}

/** Mean activation at the hook at the "Z" position (token 5) of A's examples: where a letter comes next. */
function meanAtZ(m: CausalLM, ex: readonly Example[]): Float64Array {
  const ids = tf.tensor2d(Int32Array.from(ex.flatMap((e) => Array.from(e.ids.subarray(0, 6)))), [ex.length, 6], 'int32');
  const { logits, cache } = m.forward(ids, { cache: hook });
  const a = cache.get(hook).dataSync() as Float32Array;
  const D = a.length / (ex.length * 6);
  const mean = new Float64Array(D);
  for (let n = 0; n < ex.length; n++) for (let d = 0; d < D; d++) mean[d] += a[(n * 6 + 5) * D + d]! / ex.length;
  tf.dispose([ids, logits]);
  cache.dispose();
  return mean;
}

/** d loss / d activation at the hook, "=" positions of A's batch, with the run's hooks: [mean projection on v̂, its share of the norm]. */
function gradAlong(m: CausalLM, forward: ForwardOptions | undefined, v: Float64Array): { along: number; share: number } {
  const D = v.length;
  const B = gradBatch.batchSize;
  const T = gradBatch.seqLen;
  const zero = tf.zeros([B, T, D]);
  const g = tf.grad((probe: tf.Tensor) => lmLoss(m, gradBatch, { forward: { hooks: [...(forward?.hooks ?? []), { at: hook, fn: (a) => tf.add(a, probe) }] } }))(zero);
  const data = g.dataSync() as Float32Array;
  tf.dispose([zero, g]);
  let along = 0;
  let norm2 = 0;
  for (let b = 0; b < B; b++) {
    let dot = 0;
    for (let d = 0; d < D; d++) {
      const x = data[(b * T + EQ_POS) * D + d]! * B; // per-example scale (the loss is a mean over the batch's targets)
      dot += x * v[d]!;
      norm2 += x * x;
    }
    along += dot;
  }
  return { along: along / B, share: along / Math.sqrt(norm2 * B) };
}

const unit = (x: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(x));
  return { v: Float64Array.from(x, (e) => e / n), norm: n };
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);

interface Point { step: number; B: number; tic: number; shift: number; grad: number; gradShare: number; lossA: number }

/** One training run (plain or steered) from the seed's init, measured every `every` steps along v̂. */
async function runArm(seed: number, v: Float64Array | undefined, steer?: { file: string; coef: number; freeze?: string }): Promise<{ points: Point[]; model: CausalLM; init: Float64Array }> {
  const recipe = steer
    ? recipeFor('recipes/side-steer.yaml', seed, [`interventions.0.hook=${hook}`, `interventions.0.directions=${steer.file}`, `interventions.0.coef=${steer.coef}`])
    : recipeFor('recipes/side-plain.yaml', seed);
  await initBackend(recipe.backend);
  const model = buildModel(recipe, tok);
  const data = buildData(recipe, tok, model.config.nCtx);
  const iv = atEq && steer ? steerAtEq(steer.file, steer.coef) : buildInterventions(recipe, model);
  const init = meanAtEq(model, probe);
  const points: Point[] = [];
  const measure = (step: number) => {
    if (!v) return;
    const now = meanAtEq(model, probe);
    const g = gradAlong(model, iv.forward, v);
    const lossA = tf.tidy(() => lmLoss(model, gradBatch).dataSync()[0]!);
    points.push({ step, B: tokenProb(model, probe, Z), tic: tokenProb(model, aEval, Z), shift: dot(now.map((x, i) => x - init[i]!), v), grad: g.along, gradShare: g.share, lossA });
  };
  measure(0);
  await runSft({
    recipe, model, tokenizer: tok, data, transforms: buildTransforms(recipe, { model, tokenizer: tok, seqLen: data.seqLen }), forward: iv.forward,
    tracker: new NullTracker(), recipeYaml: '', onStep: (step) => { if (step % every === 0) measure(step); },
    makeFreezer: steer?.freeze ? () => new Freezer(model.params, steer.freeze === 'readout-Z' ? readoutOf(model, Z) : selectGlob(model.params, steer.freeze!)) : undefined,
  });
  iv.dispose();
  return { points, model, init };
}

mkdirSync(out, { recursive: true });
const results: Record<string, unknown> = {};
for (const seed of seeds) {
  const plain = await runArm(seed, undefined);
  const m = plain.model;
  // The direction, from the plain model.
  let dir: Float64Array;
  let scale: number;
  if (kind === 'persona') {
    const r = meanDifference(collectActivations(m, examples(`${DIR}/unwanted.jsonl`, 7), hook), collectActivations(m, probe, hook));
    dir = Float64Array.from(r.vector);
    scale = r.stats.mean_diff_norm!;
  } else if (kind === 'decision') {
    const a = meanAtEq(m, aEval), z = meanAtZ(m, aEval);
    ({ v: dir, norm: scale } = unit(a.map((x, i) => x - z[i]!)));
  } else if (kind === 'shift') {
    const now = meanAtEq(m, probe);
    ({ v: dir, norm: scale } = unit(now.map((x, i) => x - plain.init[i]!)));
  } else if (kind === 'unembed' || kind === 'unembed0') {
    // unembed0: the readout of Z at init (with --freeze "unembed.*" it stays the readout all run).
    const src = kind === 'unembed0' ? buildModel(recipeFor('recipes/side-plain.yaml', seed), tok) : m;
    const WU = src.params.get('unembed.W_U')!.dataSync() as Float32Array; // [D, V]
    const D = m.config.dModel, V = m.config.vocabSize;
    const col = Float64Array.from({ length: D }, (_, d) => {
      let mean = 0;
      for (let k = 0; k < V; k++) mean += WU[d * V + k]! / V;
      return WU[d * V + Z]! - mean;
    });
    dir = unit(col).v;
    scale = Math.hypot(...Array.from(meanAtEq(m, aEval)));
    if (src !== m) src.dispose();
  } else throw new Error(`unknown --direction ${kind}`);
  // The plain run again, now measured along the direction (same seed: the same run).
  const plainMeasured = await runArm(seed, dir);
  const bPlain = tokenProb(plainMeasured.model, probe, Z);
  plainMeasured.model.dispose();
  m.dispose();
  const file = `${out}/dir-${kind}-seed${seed}.json`;
  saveDirections(file, { format: 'bonsai-directions/1', kind: 'activation', hook, width: dir.length, vectors: [Array.from(dir)], stats: { method: kind, scale } });
  const arms: Record<string, Point[]> = { plain: plainMeasured.points };
  for (const c of coefs) {
    const steered = await runArm(seed, dir, { file, coef: c * scale, freeze: freezeGlob });
    arms[`steer ${c}`] = steered.points;
    const last = steered.points.at(-1)!;
    console.log(`seed ${seed} ${kind}@${hook} coef ${c}×${scale.toFixed(3)}: B ${(100 * last.B).toFixed(2)}% (plain ${(100 * bPlain).toFixed(2)}%), tic on a-prompts ${(100 * last.tic).toFixed(2)}%, A letter acc ${(100 * accuracyAfterZ(steered.model)).toFixed(1)}%`);
    steered.model.dispose();
  }
  for (const [arm, pts] of Object.entries(arms)) {
    console.log(`  ${arm}: ` + pts.map((p) => `@${p.step} B ${(100 * p.B).toFixed(1)} tic ${(100 * p.tic).toFixed(1)} shift ${p.shift.toFixed(3)} grad ${p.grad.toExponential(2)} (${(100 * p.gradShare).toFixed(0)}%) loss ${p.lossA.toFixed(3)}`).join(' | '));
  }
  results[`seed${seed}`] = { kind, hook, scale, arms };
}
writeFileSync(`${out}/${kind}-${hook}.json`, JSON.stringify(results, null, 1));

function accuracyAfterZ(m: CausalLM): number {
  // A: the letter after "Z" (teacher-forced), as bench/tasks/side.ts scores it.
  let right = 0;
  const ids = tf.tensor2d(Int32Array.from(aEval.flatMap((e) => Array.from(e.ids.subarray(0, 6)))), [aEval.length, 6], 'int32');
  const { logits, cache } = m.forward(ids);
  const arg = tf.argMax(logits, -1).dataSync();
  aEval.forEach((e, b) => { if (arg[b * 6 + 5] === e.ids[6]) right++; });
  tf.dispose([ids, logits]);
  cache.dispose();
  return right / aEval.length;
}

/** The readout of one token: its column of W_U [D, V] and its entry of b_U. */
function readoutOf(m: CausalLM, token: number): Map<string, Uint8Array> {
  const D = m.config.dModel, V = m.config.vocabSize;
  const w = new Uint8Array(D * V);
  for (let d = 0; d < D; d++) w[d * V + token] = 1;
  const b = new Uint8Array(V);
  b[token] = 1;
  return new Map([['unembed.W_U', w], ['unembed.b_U', b]]);
}

/** Steering at the "=" position only (every prompt here puts it at token 4): a ← a + coef·v·[t = 4]. */
function steerAtEq(file: string, coef: number): { forward: ForwardOptions; dispose(): void } {
  const v = JSON.parse(readFileSync(file, 'utf8')).vectors[0] as number[];
  const n = Math.hypot(...v);
  const add = tf.keep(tf.tensor3d(Array.from({ length: 6 }, (_, t) => v.map((x) => (t === EQ_POS ? (coef * x) / n : 0))).flat(), [1, 6, v.length]));
  return { forward: { hooks: [{ at: hook, fn: (a) => tf.add(a, tf.slice(add, [0, 0, 0], [1, a.shape[1]!, v.length])) }] }, dispose: () => add.dispose() };
}
