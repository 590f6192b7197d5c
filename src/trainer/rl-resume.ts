/**
 * Where an RL run stands, and how `--resume` puts it back: the policy's weights, AdamW's
 * state, the step, the prompt cursor and the rollout RNG come from the newest checkpoint.
 * The frozen reference does NOT: it is the recipe's init weights (model.init), built again
 * on resume, and checked against the fingerprint the run stored when it first saved, so a
 * resumed run keeps its KL and probe rewards against the same model as before.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import { Rng } from '../util/rng.ts';
import { latestCheckpoint, loadCheckpoint, refuseExistingCheckpoints, type TrainingState } from './checkpoint.ts';
import type { AdamW } from './optimizer.ts';

/** An RL checkpoint's state.json: the shared training state plus the reference's identity. */
export interface RlTrainingState extends TrainingState {
  /** Fingerprint (sha256) of the frozen reference the run started with: the recipe's init weights. */
  reference: string;
}

/** The mutable position of an RL run. `cursor` counts prompts drawn since step 1, across epochs. */
export interface RlPosition {
  step: number;
  cursor: number;
  rng: Rng;
}

export interface RlRestoreOptions {
  recipe: Recipe;
  /** The policy, still holding the init weights; the checkpoint's weights are loaded into it. */
  model: HookedTransformer;
  tokenizer: Tokenizer;
  optimizer: AdamW;
  /** Fingerprint of the frozen copy built from the init weights (before any restore). */
  reference: string;
  /** Number of prompts in data.train: a checkpoint over other prompts is refused. */
  prompts: number;
  resume?: boolean;
  onLog?(line: string): void;
}

/** A fresh run's position (step 0; the rollout RNG on its own stream, seed + 1, as SFT's sampling). */
export function freshRlPosition(recipe: Recipe): RlPosition {
  return { step: 0, cursor: 0, rng: new Rng(recipe.run.seed + 1) };
}

/**
 * With `resume`, loads the newest checkpoint into the policy and optimizer and returns the
 * position to continue from. Without it, refuses an out_dir that already holds checkpoints.
 */
export function restoreRl(o: RlRestoreOptions): RlPosition {
  const outDir = o.recipe.run.out_dir;
  if (!o.resume) {
    refuseExistingCheckpoints(outDir);
    return freshRlPosition(o.recipe);
  }
  const latest = latestCheckpoint(outDir);
  if (!latest) throw new BonsaiError(`--resume: no checkpoint in ${outDir}`, { hint: 'run without --resume to start fresh' });
  const ck = loadCheckpoint(latest, { config: o.model.config, tokenizer: o.tokenizer.kind });
  if (!ck.state || !ck.optimizer) throw new BonsaiError(`--resume: ${latest} holds weights only (no optimizer or prompt state)`);
  const state = ck.state as Partial<RlTrainingState> & TrainingState;
  if (state.reference === undefined) {
    throw new BonsaiError(`--resume: ${latest} records no reference fingerprint (written before RL resume existed)`, {
      hint: 'start the RL run again in a fresh out_dir',
    });
  }
  if (state.reference !== o.reference) {
    throw new BonsaiError(
      `--resume: the recipe's model.init is not the reference this run started from (${latest} recorded ${short(state.reference)}…, model.init now gives ${short(o.reference)}…)`,
      { hint: 'resume with the model.init (checkpoint or config and seed) the run was started with; the KL reference must not change mid-run' },
    );
  }
  const b = state.batcher;
  if (b.size !== o.prompts || b.seed !== o.recipe.run.seed) {
    throw new BonsaiError(`--resume: ${latest} was drawing from ${b.size} prompts (seed ${b.seed}); the recipe gives ${o.prompts} (seed ${o.recipe.run.seed})`, {
      hint: 'resume with the data.train and run.seed the run was started with',
    });
  }
  for (const [path, v] of o.model.params) tf.tidy(() => v.assign(tf.tensor(ck.weights.get(path)!, v.shape)));
  o.optimizer.loadState(o.model.params, { t: state.optimizerT, tensors: ck.optimizer });
  o.onLog?.(`resumed from ${latest} at step ${state.step}`);
  return { step: state.step, cursor: b.epoch * b.size + b.cursor, rng: new Rng(state.rng) };
}

/** A fingerprint's first 12 hex digits, enough to tell two apart in a message. */
const short = (fingerprint: string) => fingerprint.replace(/^sha256:/, '').slice(0, 12);

/** The state.json an RL checkpoint at `pos` carries. */
export function rlTrainingState(recipe: Recipe, pos: RlPosition, prompts: number, optimizer: AdamW, reference: string, runId?: string): RlTrainingState {
  return {
    step: pos.step,
    optimizerT: optimizer.t,
    // The prompt position in BatcherState's terms: one fixed permutation (seeded by run.seed), cycled.
    batcher: { epoch: Math.floor(pos.cursor / prompts), cursor: pos.cursor % prompts, size: prompts, seed: recipe.run.seed },
    rng: pos.rng.state(),
    runId,
    reference,
  };
}
