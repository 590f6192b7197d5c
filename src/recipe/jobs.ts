/**
 * Job kinds: what a recipe is for (`job: sft | rl | probe`). A job says which trainer kind
 * (if any) it runs and which sections it needs; the command that runs it reads the same
 * entry. Recipes written before `job:` existed leave it out: it follows from trainer.kind.
 * Add a job (e.g. `edit`): one entry here, its sections in schema.ts, its command.
 */
import type { CheckContext } from '../registry/kinds.ts';

interface JobKind {
  describe: string;
  /** The trainer kind this job runs; undefined: the recipe has no `trainer` section. */
  trainer: string | undefined;
  /** Top-level sections this job cannot run without (beyond `model`). */
  needs: readonly string[];
  /** The command that runs it, for messages. */
  command: string;
  check?(ctx: CheckContext): void;
}

/** Every job kind. */
export const jobKinds = {
  sft: { describe: 'supervised fine-tuning', trainer: 'sft', needs: ['data', 'trainer'], command: 'bonsai train' },
  rl: { describe: 'RL from rewards', trainer: 'rl', needs: ['data', 'trainer'], command: 'bonsai train' },
  probe: {
    describe: 'train probes on the frozen model; no trainer section',
    trainer: undefined,
    needs: ['probes'],
    command: 'bonsai probe train',
    check(ctx) {
      const probes = ctx.recipe.probes;
      if (probes && !probes.some((p) => p?.train)) ctx.report(['probes'], 'a probe job needs at least one probe with a "train" section (probes[].train.data)');
    },
  },
} as const satisfies Record<string, JobKind>;

/** A job kind's name. */
export type JobName = keyof typeof jobKinds;

/** Job names, for the schema's enum. */
export const jobNames = Object.keys(jobKinds) as [JobName, ...JobName[]];

/** Jobs that run a trainer, and those that do not. */
export type TrainingJob = { [K in JobName]: (typeof jobKinds)[K]['trainer'] extends string ? K : never }[JobName];
