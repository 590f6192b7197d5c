/**
 * The one loop driver behind every trainer (SFT, RL). It owns what a run's steps have in
 * common: the position (step, optimizer, the sampling RNG), `--resume` and the refusal to
 * overwrite a run, the learning-rate schedule, logging (with the transforms' stats on logged
 * steps), evaluation, checkpoints, SIGINT and `--stop-after`, the non-finite policy and
 * circuit freezing. A trainer supplies its step and the state only it knows (a batcher, a
 * prompt cursor), nothing more. The step sequencing itself (cadence, stop signals, the
 * non-finite policy) is `runSteps` (util/step-sequence.ts), which probe training shares.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Freezer } from '../gradients/freeze.ts';
import type { GradientTransform } from '../gradients/transform.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import { tokenizerFiles, tokenizerRecord, type Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { Tracker } from '../tracking/index.ts';
import { Rng } from '../util/rng.ts';
import { scheduleOf } from './build.ts';
import { latestCheckpoint, loadCheckpoint, refuseExistingCheckpoints, saveTrainingCheckpoint, type TrainingState } from '../models/checkpoint.ts';
import { applyFreezer, verifyFreezer } from './design.ts';
import type { AdamW } from './optimizer.ts';
import { lrAt } from './schedule.ts';
import { adaptersOf, trainableParams } from '../lora/attach.ts';
import { adapterCheckpointFiles } from '../lora/build.ts';
import { runSteps, type EvalOutcome, type StepOutcome } from '../util/step-sequence.ts';

/** What the loop reports to its caller (the CLI draws a progress bar from it). */
export interface LoopEvents {
  onStep?(step: number, total: number, m: { loss: number; lr: number; tokensPerSec: number }): void;
  onLog?(line: string): void;
}

export type { EvalOutcome, StepOutcome } from '../util/step-sequence.ts';

/** What every trainer kind's setup gets (train.ts builds it once). */
export interface KindSetup {
  recipe: Recipe;
  model: CausalLM;
  tokenizer: Tokenizer;
  /** The backend's name, for the memory check. */
  backend: string;
  opts: LoopEvents & { resume?: boolean; stopAfter?: number; interrupt?: { requested: boolean } };
}

/** What a trainer kind's loop gets from train.ts: the tracking run and the recipe's design, built once for every kind. */
export type KindRunContext = Omit<LoopOptions<unknown>, 'recipe' | 'model' | 'tokenizer' | 'optimizer' | 'plan' | 'trainer'> & {
  /** The recipe's gradient transforms, in order; the loop's owner disposes them when the run ends. */
  transforms: GradientTransform[];
  /** The recipe's interventions, for training passes only. */
  forward?: ForwardOptions;
};

/** A trainer kind after its setup (sft.ts, rl.ts), ready to run inside the tracking run. */
export interface PreparedRun<R> {
  /** Tags of the tracking run. */
  tags: Record<string, string>;
  /** The recipe as the kind resolved it (RL: sampling defaults from generation_config.json), logged as the run's params; else the recipe given. */
  recipe?: Recipe;
  /** Params beyond the recipe's (which settings came from generation_config.json). */
  params?: Record<string, string>;
  /** The sequence length the gradient kinds and the freeze selection measure on. */
  seqLen: number;
  run(ctx: KindRunContext): Promise<R>;
}

/** The trainer's part: its step, its own state in checkpoints, and optionally an evaluation. */
export interface LoopTrainer<E> {
  /** Runs step `step` (1-based) at learning rate `lr`; `logged`: its transform stats will be logged. */
  step(ctx: { step: number; lr: number; rng: Rng; logged: boolean }): StepOutcome | Promise<StepOutcome>;
  /** The state.json fields beyond step, optimizerT, rng and runId (e.g. `batcher`). */
  state(): Record<string, unknown>;
  /** Checks that `state` (from checkpoint `dir`) belongs to this run and restores the trainer's part; throws a BonsaiError if not. */
  restore(state: TrainingState, dir: string): void;
  /** Evaluation: metrics to log, a line to print, and the value the run returns (undefined: nothing to evaluate on). */
  evaluate?(): EvalOutcome<E> | undefined | Promise<EvalOutcome<E> | undefined>;
}

export interface LoopOptions<E> extends LoopEvents {
  recipe: Recipe;
  model: CausalLM;
  tokenizer: Tokenizer;
  optimizer: AdamW;
  /** Builds the freeze masks; called after a resume has loaded the weights (the bit-identical check compares against those). */
  makeFreezer?: () => Freezer | undefined;
  /** Steps to run, logging, evaluation and the non-finite limit (from the trainer section). */
  plan: { steps: number; logEvery: number; evalEvery: number; maxNonfiniteSteps: number };
  trainer: LoopTrainer<E>;
  tracker: Tracker;
  recipeYaml: string;
  runId?: string;
  /** Continue from the newest checkpoint in out_dir. */
  resume?: boolean;
  /** Stop (with a checkpoint) after this step, as if interrupted; for tests and `--stop-after`. */
  stopAfter?: number;
  /** Set to true (e.g. by SIGINT) to save a checkpoint and stop after the current step. */
  interrupt?: { requested: boolean };
}

export interface LoopResult<E> {
  step: number;
  /** The last applied step's loss (NaN if none). */
  finalLoss: number;
  eval?: E;
  interrupted: boolean;
  checkpoint?: string;
  /** The sampling RNG where the run ended (SFT draws its closing sample from it). */
  rng: Rng;
}

/**
 * Runs `o.trainer` from step 0 (or the newest checkpoint, with `resume`) to `plan.steps`.
 * Async only to yield to the event loop once per step, so signal handlers (SIGINT) and the
 * tracker's background flush get to run between steps. Disposes the freezer it builds;
 * the optimizer stays the caller's.
 */
export async function runLoop<E>(o: LoopOptions<E>): Promise<LoopResult<E>> {
  // A stream of its own (seed + 1), so sampling never shifts the data order.
  const pos = { step: 0, rng: new Rng(o.recipe.run.seed + 1) };
  let freezer: Freezer | undefined;
  try {
    restoreOrGuard(o, pos);
    freezer = o.makeFreezer?.();
    if (freezer) applyFreezer(freezer, o.optimizer, o.tracker, pos.step, o.onLog);
    const result = await steps(o, pos);
    if (freezer && !result.interrupted) verifyFreezer(freezer, o.model, o.tracker, pos.step, o.onLog);
    return result;
  } finally {
    if (o.optimizer.freezer === freezer) o.optimizer.freezer = undefined;
    freezer?.dispose();
  }
}

async function steps<E>(o: LoopOptions<E>, pos: { step: number; rng: Rng }): Promise<LoopResult<E>> {
  const { plan, trainer } = o;
  const t = o.recipe.trainer;
  const schedule = scheduleOf(t);
  const save = () => saveAt(o, pos);
  let checkpoint: string | undefined;
  let lr = NaN;
  const r = await runSteps<E>({
    plan,
    from: pos.step,
    tracker: o.tracker,
    onLog: o.onLog,
    nonFiniteHint: 'lower trainer.optimizer.lr or add a clip transform; earlier checkpoints are intact',
    async run(step, logged) {
      lr = lrAt(step, plan.steps, t.optimizer.lr, schedule);
      const out = await trainer.step({ step, lr, rng: pos.rng, logged });
      pos.step = step;
      return { ...out, metrics: { ...out.metrics, 'train/lr': lr } };
    },
    onApplied: (step, out) => o.onStep?.(step, plan.steps, { loss: out.loss, lr, tokensPerSec: out.tokensPerSec }),
    evaluate: trainer.evaluate && (() => trainer.evaluate!()),
    afterStep(step) {
      const stopping = step === o.stopAfter || o.interrupt?.requested === true;
      const scheduled = o.recipe.checkpoint.every > 0 && step % o.recipe.checkpoint.every === 0;
      if (scheduled || stopping || step === plan.steps) checkpoint = save();
      if (stopping && step < plan.steps) o.onLog?.(`stopped at step ${step}; checkpoint ${checkpoint}; continue with --resume`);
      return stopping;
    },
  });
  const interrupted = r.stopped === 'interrupted';
  return { step: r.step, finalLoss: r.lastLoss, eval: r.lastEval, interrupted, checkpoint: interrupted ? checkpoint : (checkpoint ?? save()), rng: pos.rng };
}

/**
 * With --resume, loads the newest checkpoint into the model, the optimizer, the position and
 * the trainer. Without it, refuses to start over an out_dir that already holds checkpoints:
 * nothing written earlier is overwritten by accident.
 */
function restoreOrGuard<E>(o: LoopOptions<E>, pos: { step: number; rng: Rng }): void {
  const outDir = o.recipe.run.out_dir;
  if (!o.resume) return refuseExistingCheckpoints(outDir);
  const latest = latestCheckpoint(outDir);
  if (!latest) throw new BonsaiError(`--resume: no checkpoint in ${outDir}`, { hint: 'run without --resume to start fresh' });
  const ck = loadCheckpoint(latest, { config: o.model.config, tokenizer: o.tokenizer.kind, adapters: 'separate' });
  if (!ck.state || !ck.optimizer) throw new BonsaiError(`--resume: ${latest} holds weights only (no optimizer or training state)`);
  const adapters = adaptersOf(o.model);
  if (!adapters !== !ck.adapters) {
    throw new BonsaiError(`--resume: ${latest} was written ${ck.adapters ? 'by a LoRA run' : 'without LoRA adapters'}, the recipe ${adapters ? 'has' : 'has no'} lora section`);
  }
  o.trainer.restore(ck.state, latest); // first: it refuses a checkpoint from another run before anything is loaded
  for (const [path, v] of o.model.params) tf.tidy(() => v.assign(tf.tensor(ck.weights.get(path)!, v.shape)));
  if (adapters) adapters.assign(ck.adapters!);
  o.optimizer.loadState(trainableParams(o.model), { t: ck.state.optimizerT, tensors: ck.optimizer });
  pos.rng = new Rng(ck.state.rng);
  pos.step = ck.state.step;
  o.onLog?.(`resumed from ${latest} at step ${pos.step}`);
}

function saveAt<E>(o: LoopOptions<E>, pos: { step: number; rng: Rng }): string {
  return saveTrainingCheckpoint(o.recipe.run.out_dir, o.recipe.checkpoint.keep, {
    config: o.model.config,
    ...tokenizerRecord(o.tokenizer),
    weights: o.model.valuesSync(),
    // A run with tokenizer hf keeps its tokenizer files beside the weights: --resume, generate,
    // probes and scripts reading this checkpoint rebuild the same tokenizer from it.
    files: { ...tokenizerFiles(o.tokenizer), ...adapterCheckpointFiles(o.model) },
    optimizer: o.optimizer.stateSync().tensors,
    state: { step: pos.step, optimizerT: o.optimizer.t, ...o.trainer.state(), rng: pos.rng.state(), runId: o.runId },
    recipeYaml: o.recipeYaml,
  });
}
