/**
 * Job kinds: what a recipe is for (`job: sft | rl | probe | edit | sae`). A job says which
 * trainer kind (if any) it runs, which sections it needs, the command that runs it, and
 * whether its recipe is a training recipe (schema.ts: sft, rl, probe) or has a schema of its
 * own (edit-schema.ts, sae-schema.ts). Recipes written before `job:` existed leave it out: it
 * follows from trainer.kind. Add a job: one entry here, its schema in job-schemas.ts (the
 * compiler asks for it), its command.
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
  /** training: the training recipe's sections (schema.ts); own: a schema of its own (job-schemas.ts). */
  recipe: 'training' | 'own';
  check?(ctx: CheckContext): void;
}

/** Every job kind. */
export const jobKinds = {
  sft: { describe: 'supervised fine-tuning', trainer: 'sft', needs: ['data', 'trainer'], command: 'bonsai train', recipe: 'training' },
  rl: { describe: 'RL from rewards', trainer: 'rl', needs: ['data', 'trainer'], command: 'bonsai train', recipe: 'training' },
  probe: {
    describe: 'train probes on the frozen model; no trainer section',
    trainer: undefined,
    needs: ['probes'],
    command: 'bonsai probe train',
    recipe: 'training',
    check(ctx) {
      const probes = ctx.recipe.probes;
      if (probes && !probes.some((p) => p?.train)) ctx.report(['probes'], 'a probe job needs at least one probe with a "train" section (probes[].train.data)');
    },
  },
  edit: { describe: 'a weight edit, no trainer', trainer: undefined, needs: ['edit'], command: 'bonsai edit', recipe: 'own' },
  sae: { describe: 'a sparse autoencoder, no trainer', trainer: undefined, needs: ['sae'], command: 'bonsai sae train', recipe: 'own' },
} as const satisfies Record<string, JobKind>;

/** A job kind's name. */
export type JobName = keyof typeof jobKinds;

/** Jobs whose recipe is a training recipe (schema.ts), and those with a schema of their own. */
export type TrainingRecipeJob = { [K in JobName]: (typeof jobKinds)[K]['recipe'] extends 'training' ? K : never }[JobName];
export type OwnRecipeJob = Exclude<JobName, TrainingRecipeJob>;

/** The jobs a training recipe's `job` field takes, for the schema's enum. */
export const trainingRecipeJobs = (Object.keys(jobKinds) as JobName[]).filter((j): j is TrainingRecipeJob => jobKinds[j].recipe === 'training') as [TrainingRecipeJob, ...TrainingRecipeJob[]];

/** Whether `job` (as written) names a job whose recipe has a schema of its own. */
export function isOwnRecipeJob(job: unknown): job is OwnRecipeJob {
  return typeof job === 'string' && job in jobKinds && jobKinds[job as JobName].recipe === 'own';
}
