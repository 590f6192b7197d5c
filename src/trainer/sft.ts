import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { Batcher } from '../data/index.ts';
import type { GradientTransform } from '../gradients/index.ts';
import type { Freezer } from '../gradients/freeze.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import { generate } from '../models/generate.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { Tracker } from '../tracking/index.ts';
import { Rng } from '../util/rng.ts';
import { buildOptimizer, scheduleOf, type RunData } from './build.ts';
import { latestCheckpoint, loadCheckpoint, refuseExistingCheckpoints, saveTrainingCheckpoint } from './checkpoint.ts';
import { evaluate, type EvalResult } from './evaluate.ts';
import type { AdamW } from './optimizer.ts';
import { lrAt } from './schedule.ts';
import { createTrainStep } from './step.ts';
import { applyFreezer, verifyFreezer } from './design.ts';

/** What the loop reports to its caller (the CLI draws a progress bar from it). */
export interface LoopEvents {
  onStep?(step: number, total: number, m: { loss: number; lr: number; tokensPerSec: number }): void;
  onLog?(line: string): void;
}

export interface SftLoopOptions extends LoopEvents {
  recipe: Recipe;
  model: HookedTransformer;
  tokenizer: Tokenizer;
  data: RunData;
  transforms: GradientTransform[];
  /**
   * Builds the circuit-freezing masks; called after a resume has loaded the weights, so
   * the bit-identical check compares against the values the run actually started from.
   */
  makeFreezer?: () => Freezer | undefined;
  /** Training-pass forward options (interventions); evaluation and sampling never use them. */
  forward?: ForwardOptions;
  tracker: Tracker;
  recipeYaml: string;
  /** Continue from the newest checkpoint in out_dir. */
  resume?: boolean;
  /** Stop (with a checkpoint) after this step, as if interrupted; for tests and `--stop-after`. */
  stopAfter?: number;
  /** Set to true (e.g. by SIGINT) to save a checkpoint and stop after the current step. */
  interrupt?: { requested: boolean };
  runId?: string;
}

export interface SftResult {
  step: number;
  finalLoss: number;
  eval?: EvalResult;
  interrupted: boolean;
  checkpoint?: string;
  sample?: string;
}

/** Mutable position of a run: everything a checkpoint must carry to continue the same curve. */
interface Position {
  step: number;
  optimizer: AdamW;
  batcher: Batcher;
  rng: Rng;
}

/**
 * The SFT loop: batches → train step → metrics; eval, checkpoints and resume on schedule.
 * Async only to yield to the event loop once per step, so signal handlers (SIGINT) and the
 * tracker's background flush get to run between steps.
 */
export async function runSft(o: SftLoopOptions): Promise<SftResult> {
  const t = sftTrainer(o.recipe);
  const pos: Position = {
    step: 0,
    optimizer: buildOptimizer(t),
    batcher: new Batcher(o.data.train, { batchSize: t.batch_size, seed: o.recipe.run.seed }),
    // A stream of its own (seed + 1), so sampling never shifts the data order.
    rng: new Rng(o.recipe.run.seed + 1),
  };
  let freezer: Freezer | undefined;
  try {
    restoreOrGuard(o, pos);
    freezer = o.makeFreezer?.();
    if (freezer) applyFreezer(freezer, pos.optimizer, o.tracker, pos.step, o.onLog);
    const result = await loop(o, pos, freezer ? [freezer.transform(), ...o.transforms] : o.transforms);
    if (freezer && !result.interrupted) verifyFreezer(freezer, o.model, o.tracker, pos.step, o.onLog);
    return result;
  } finally {
    freezer?.dispose();
    pos.optimizer.dispose();
    for (const tr of o.transforms) tr.dispose?.();
  }
}

/**
 * With --resume, loads the newest checkpoint into `pos` and the model. Without it, refuses
 * to start over an out_dir that already holds checkpoints: nothing written earlier is
 * overwritten by accident.
 */
function restoreOrGuard(o: SftLoopOptions, pos: Position): void {
  const outDir = o.recipe.run.out_dir;
  if (!o.resume) return refuseExistingCheckpoints(outDir);
  const latest = latestCheckpoint(outDir);
  if (!latest) throw new BonsaiError(`--resume: no checkpoint in ${outDir}`, { hint: 'run without --resume to start fresh' });
  const ck = loadCheckpoint(latest, { config: o.model.config, tokenizer: o.tokenizer.kind });
  if (!ck.state || !ck.optimizer) throw new BonsaiError(`--resume: ${latest} holds weights only (no optimizer or data state)`);
  for (const [path, v] of o.model.params) tf.tidy(() => v.assign(tf.tensor(ck.weights.get(path)!, v.shape)));
  pos.optimizer.loadState(o.model.params, { t: ck.state.optimizerT, tensors: ck.optimizer });
  pos.batcher.restore(ck.state.batcher);
  pos.rng = new Rng(ck.state.rng);
  pos.step = ck.state.step;
  o.onLog?.(`resumed from ${latest} at step ${pos.step}`);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function loop(o: SftLoopOptions, pos: Position, transforms: GradientTransform[]): Promise<SftResult> {
  const { recipe, model, data, tracker } = o;
  const t = sftTrainer(recipe);
  const schedule = scheduleOf(t);
  const trainStep = createTrainStep({ model, optimizer: pos.optimizer, transforms, forward: o.forward });
  const save = () => saveAt(o, pos);
  const runEval = (): EvalResult | undefined => {
    if (!data.evalBatches.length) return undefined;
    const r = evaluate(model, data.evalBatches);
    tracker.logMetrics(pos.step, { 'eval/loss': r.loss, 'eval/perplexity': r.perplexity });
    o.onLog?.(`step ${pos.step}: eval loss ${r.loss.toFixed(4)} (perplexity ${r.perplexity.toFixed(2)})`);
    return r;
  };

  let lastLoss = NaN;
  let lastEval: EvalResult | undefined;
  let checkpoint: string | undefined;
  const started = performance.now();
  let tokensSeen = 0;
  let badInARow = 0;
  let skipped = 0;
  while (pos.step < t.steps) {
    const lr = lrAt(pos.step + 1, t.steps, t.optimizer.lr, schedule);
    const micro = Array.from({ length: t.grad_accum }, () => pos.batcher.next());
    const logged = (pos.step + 1) % t.log_every === 0 || pos.step + 1 === t.steps;
    const r = trainStep(micro, lr, logged); // transform stats only where they will be logged
    pos.step += 1;
    if (r.nonFinite) {
      // Skip the update, count it, and stop once skipping is clearly not recovering.
      badInARow += 1;
      skipped += 1;
      tracker.logMetrics(pos.step, { 'train/skipped_steps': skipped });
      o.onLog?.(`step ${pos.step}: skipped, non-finite gradients in ${r.nonFinite.join(', ')}`);
      if (badInARow >= t.max_nonfinite_steps || pos.step === t.steps) {
        throw new BonsaiError(
          `step ${pos.step}: the loss is ${r.loss}; ${badInARow} step(s) in a row had NaN or infinite gradients (${r.nonFinite.join(', ')})`,
          { hint: 'lower trainer.optimizer.lr or add a clip transform; earlier checkpoints are intact' },
        );
      }
      await yieldToEventLoop();
      continue;
    }
    badInARow = 0;
    lastLoss = r.loss;
    tokensSeen += micro.reduce((n, b) => n + b.batchSize * b.seqLen, 0);
    const tokensPerSec = tokensSeen / ((performance.now() - started) / 1000);
    o.onStep?.(pos.step, t.steps, { loss: r.loss, lr, tokensPerSec });
    if (logged) {
      tracker.logMetrics(pos.step, { 'train/loss': r.loss, 'train/lr': lr, 'train/tokens_per_sec': tokensPerSec, ...r.stats });
    }
    if (t.eval.every > 0 && pos.step % t.eval.every === 0 && pos.step < t.steps) lastEval = runEval();
    await yieldToEventLoop();
    const stopping = pos.step === o.stopAfter || o.interrupt?.requested === true;
    const scheduled = recipe.checkpoint.every > 0 && pos.step % recipe.checkpoint.every === 0;
    if (scheduled || stopping || pos.step === t.steps) checkpoint = save();
    if (stopping && pos.step < t.steps) {
      o.onLog?.(`stopped at step ${pos.step}; checkpoint ${checkpoint}; continue with --resume`);
      return { step: pos.step, finalLoss: lastLoss, eval: lastEval, interrupted: true, checkpoint };
    }
  }
  lastEval = runEval();
  const sample = recipe.sample ? sampleText(model, o.tokenizer, recipe.sample, pos.rng) : undefined;
  return { step: pos.step, finalLoss: lastLoss, eval: lastEval, interrupted: false, checkpoint: checkpoint ?? save(), sample };
}

function saveAt(o: SftLoopOptions, pos: Position): string {
  return saveTrainingCheckpoint(o.recipe.run.out_dir, o.recipe.checkpoint.keep, {
    config: o.model.config,
    tokenizer: o.tokenizer.kind,
    weights: o.model.valuesSync(),
    optimizer: pos.optimizer.stateSync().tensors,
    state: { step: pos.step, optimizerT: pos.optimizer.t, batcher: pos.batcher.state(), rng: pos.rng.state(), runId: o.runId },
    recipeYaml: o.recipeYaml,
  });
}

function sampleText(model: HookedTransformer, tok: Tokenizer, s: NonNullable<Recipe['sample']>, rng: Rng): string {
  const prompt = tok.encode(s.prompt);
  const out = generate(model, [prompt.length ? prompt : [tok.eosId]], {
    maxNewTokens: s.max_new_tokens,
    temperature: s.temperature,
    topK: s.top_k,
    topP: s.top_p,
    stopTokens: [tok.eosId],
    rng,
  });
  return s.prompt + tok.decode(out.tokens[0]!);
}

/** The recipe's trainer, which the SFT loop needs to be `sft` (run.ts dispatches on kind). */
function sftTrainer(recipe: Recipe): Extract<Recipe['trainer'], { kind: 'sft' }> {
  if (recipe.trainer.kind !== 'sft') throw new Error(`internal: the SFT loop got a ${recipe.trainer.kind} trainer`);
  return recipe.trainer;
}
