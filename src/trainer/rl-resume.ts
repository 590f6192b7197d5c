/**
 * What an RL checkpoint carries beyond the loop driver's position (loop.ts): the prompt
 * cursor and the reference's identity. The frozen reference itself is NOT in a checkpoint:
 * it is the recipe's init weights (model.init), built again on resume, and checked against
 * the fingerprint the run stored when it first saved, so a resumed run keeps its KL and
 * probe rewards against the same model as before.
 */
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { TrainingState } from '../models/checkpoint.ts';

/** Where the prompt stream stands: one fixed permutation of `size` prompts (seeded by `seed`), cycled. */
export interface PromptState {
  /** Prompts drawn since step 1, across epochs. */
  cursor: number;
  size: number;
  seed: number;
}

/** An RL checkpoint's own state.json fields. */
export interface RlState {
  prompts: PromptState;
  /** Fingerprint (sha256) of the frozen reference the run started with: the recipe's init weights. */
  reference: string;
}

/** The RL trainer's position in its prompts: draws prompt indices in a seeded order, epoch after epoch. */
export class PromptCursor {
  cursor = 0;
  private readonly order: number[];

  constructor(readonly size: number, readonly seed: number) {
    this.order = new Rng(seed).shuffle(Array.from({ length: size }, (_, i) => i));
  }

  /** The next `n` prompt indices. */
  take(n: number): number[] {
    return Array.from({ length: n }, () => this.order[this.cursor++ % this.order.length]!);
  }

  state(): PromptState {
    return { cursor: this.cursor, size: this.size, seed: this.seed };
  }
}

/**
 * Checks that checkpoint `dir`'s state belongs to this run — the same reference and the same
 * prompts — and puts the cursor where it stood. Checkpoints written before the cursor had
 * its own field kept it in `batcher` terms (epoch, cursor); those are read too.
 */
export function restoreRlState(state: TrainingState, dir: string, cursor: PromptCursor, reference: string): void {
  const { reference: stored, prompts } = state as Partial<RlState>;
  if (stored === undefined) {
    throw new BonsaiError(`--resume: ${dir} records no reference fingerprint (written before RL resume existed, or not an RL checkpoint)`, {
      hint: 'start the RL run again in a fresh out_dir',
    });
  }
  if (stored !== reference) {
    throw new BonsaiError(
      `--resume: the recipe's model.init is not the reference this run started from (${dir} recorded ${short(stored)}…, model.init now gives ${short(reference)}…)`,
      { hint: 'resume with the model.init (checkpoint or config and seed) the run was started with; the KL reference must not change mid-run' },
    );
  }
  const b = state.batcher;
  const at: PromptState | undefined = prompts ?? (b && { cursor: b.epoch * b.size + b.cursor, size: b.size, seed: b.seed });
  if (!at) throw new BonsaiError(`--resume: ${dir} holds no prompt position (state.json has no prompts)`);
  if (at.size !== cursor.size || at.seed !== cursor.seed) {
    throw new BonsaiError(`--resume: ${dir} was drawing from ${at.size} prompts (seed ${at.seed}); the recipe gives ${cursor.size} (seed ${cursor.seed})`, {
      hint: 'resume with the data.train and run.seed the run was started with',
    });
  }
  cursor.cursor = at.cursor;
}

/** A fingerprint's first 12 hex digits, enough to tell two apart in a message. */
const short = (fingerprint: string) => fingerprint.replace(/^sha256:/, '').slice(0, 12);
