/**
 * The freeze guard: attribution freezing that decides its own size during the run. It starts
 * from the recipe's top share and, every `every` steps, checks the old task on a held-out
 * split of its data; while the exact-match accuracy there has fallen more than `maxDrop`
 * below its value at the start, it freezes the next `growPercent` of entries in attribution
 * order — set back to their starting values, so every frozen entry still ends bit-identical
 * to the start — and checks again. Why: a fixed share is a knife edge whose working window
 * moves with the seed (docs/results/forgetting.md); the check measures what the share was a
 * proxy for, on data the user holds, never the test.
 */
import type * as tf from '@tensorflow/tfjs';
import { evalBatches } from '../data/batcher.ts';
import { loadDataset } from '../data/load.ts';
import type { Batch } from '../data/types.ts';
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import { selectTopPercent } from './attribution.ts';
import type { FreezeCheck, Freezer } from './freeze.ts';
import { exactMatchAccuracy } from './held-out-scores.ts';
import type { DataRef } from './held-out.ts';

/** What one failed check did. */
export interface GuardEvent {
  /** The optimizer step about to run when the check ran (updates so far: step − 1). */
  step: number;
  /** Held-out accuracy before and after growing, and the floor it must reach. */
  before: number;
  after: number;
  floor: number;
  /** The frozen top share after growing, and the entries added. */
  percent: number;
  added: number;
}

export interface FreezeGuardOptions {
  model: CausalLM;
  /** Attribution scores of the old task (the order entries are added in). */
  scores: ReadonlyMap<string, Float32Array>;
  /** The top share frozen so far. */
  percent: number;
  /** The held-out split of the old task, batched. */
  validation: readonly Batch[];
  every: number;
  maxDrop: number;
  growPercent: number;
  /** Values of the trained parameters at the start of the run (where newly frozen entries go back to). */
  start: ReadonlyMap<string, Float32Array>;
  /** Accuracy at the start; measured now when omitted (a resumed run passes the one it started with). */
  reference?: number;
}

/** A check on the old task's held-out split that grows the Freezer it is attached to. */
export class FreezeGuard implements FreezeCheck {
  percent: number;
  readonly reference: number;
  readonly events: GuardEvent[] = [];
  /** Called after every growth (the run logs it and saves the selection for --resume). */
  onGrow?: (e: GuardEvent, freezer: Freezer) => void;

  constructor(private readonly o: FreezeGuardOptions) {
    this.percent = o.percent;
    this.reference = o.reference ?? exactMatchAccuracy(o.model, o.validation);
  }

  /** Lowest held-out accuracy the check accepts. */
  get floor(): number {
    return this.reference - this.o.maxDrop;
  }

  /** Runs before update `step` (1-based): checks after every `every` updates, growing `freezer` until the check holds. */
  beforeStep(step: number, freezer: Freezer, params: ReadonlyMap<string, tf.Variable>): void {
    if (step <= 1 || (step - 1) % this.o.every !== 0) return;
    const before = exactMatchAccuracy(this.o.model, this.o.validation);
    if (!(before < this.floor)) return;
    let after = before;
    let added = 0;
    while (after < this.floor && this.percent < 100) {
      this.percent = Math.min(100, +(this.percent + this.o.growPercent).toFixed(6));
      added += freezer.grow(params, selectTopPercent(this.o.scores, this.percent), this.o.start);
      after = exactMatchAccuracy(this.o.model, this.o.validation);
    }
    const e = { step, before, after, floor: this.floor, percent: this.percent, added };
    this.events.push(e);
    this.onGrow?.(e, freezer);
  }
}

/** An attribution selector's guard, as the freeze builder hands it over: its scores, start share and settings. */
export interface GuardSpec {
  scores: Map<string, Float32Array>;
  percent: number;
  settings: GuardSettings;
  /** The selector in messages, e.g. `freeze[0]`. */
  where: string;
}

/** The recipe's `guard` settings (freeze-kinds.ts). */
export interface GuardSettings {
  data: DataRef;
  max_drop: number;
  every: number;
  grow_percent: number;
}

/** A guard for `spec` on `model`, reading its held-out split with the run's tokenizer and sequence length. */
export function buildFreezeGuard(model: CausalLM, tokenizer: Tokenizer, seqLen: number, spec: GuardSpec, start: ReadonlyMap<string, Float32Array>, o: { percent?: number; reference?: number } = {}): FreezeGuard {
  const examples = loadDataset(spec.settings.data, tokenizer, seqLen).examples;
  if (!examples.length) throw new BonsaiError(`${spec.where}.attribution.guard.data: ${spec.settings.data.path} holds no examples`);
  return new FreezeGuard({
    model,
    scores: spec.scores,
    percent: o.percent ?? spec.percent,
    validation: evalBatches(examples, 64),
    every: spec.settings.every,
    maxDrop: spec.settings.max_drop,
    growPercent: spec.settings.grow_percent,
    start,
    reference: o.reference,
  });
}

/** One line for the run's log. */
export function describeGuardEvent(e: GuardEvent): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return `freeze guard before step ${e.step}: held-out accuracy ${pct(e.before)} < ${pct(e.floor)}; froze ${e.added} more entries (top ${e.percent}% in all, set back to their starting values); now ${pct(e.after)}`;
}
