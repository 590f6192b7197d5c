/**
 * The swappable parts of a recipe that are chosen by `kind`: trainers and gradient
 * transforms. Each kind is a strict object with a literal `kind`; adding one is adding its
 * schema to the list below, and the discriminated union, the JSON Schema, error messages
 * and `--set` path checks all follow from that list.
 */
import { z } from 'zod';
import { rlFields } from './rl.ts';
import { dataRefSchema } from './design.ts';
import { existingFile, nonNegativeInt, PATH_NOTE, positiveInt } from './fields.ts';

const beta = z.number().min(0).lt(1);

/** AdamW, with decoupled weight decay. */
export const adamwSchema = z
  .strictObject({
    kind: z.literal('adamw').describe('Optimizer: AdamW (Adam with decoupled weight decay).'),
    lr: z.number().positive().describe('Peak learning rate, reached after warmup.'),
    betas: z
      .tuple([beta, beta])
      .default([0.9, 0.999])
      .describe('Decay rates [beta1, beta2] of the first and second moment estimates, each in [0, 1).'),
    eps: z.number().positive().default(1e-8).describe('Added to the denominator for numerical stability.'),
    weight_decay: z
      .number()
      .nonnegative()
      .default(0)
      .describe('Decoupled weight decay coefficient: each step shrinks weights by lr * weight_decay.'),
  })
  .describe('The optimizer.');

/** How the learning rate moves over the run. */
export const scheduleSchema = z
  .strictObject({
    kind: z
      .enum(['constant', 'cosine', 'linear'])
      .default('cosine')
      .describe('Shape of the decay after warmup: constant, cosine, or linear down to min_lr_ratio * lr.'),
    warmup_steps: nonNegativeInt().default(0).describe('Steps of linear warmup from 0 to lr.'),
    min_lr_ratio: z.number().min(0).max(1).default(0.1).describe('Final learning rate as a fraction of lr (ignored by constant).'),
  })
  .prefault({})
  .describe('Learning-rate schedule.');

/** Supervised fine-tuning: next-token cross-entropy on the training data. */
export const sftTrainerSchema = z
  .strictObject({
    kind: z.literal('sft').describe('Supervised fine-tuning with next-token cross-entropy.'),
    steps: positiveInt().describe('Optimizer steps to train for.'),
    batch_size: positiveInt().describe('Sequences per micro-batch.'),
    grad_accum: positiveInt().default(1).describe('Micro-batches whose gradients are summed per optimizer step.'),
    optimizer: adamwSchema,
    schedule: scheduleSchema,
    eval: z
      .strictObject({
        every: nonNegativeInt().default(0).describe('Evaluate every this many steps; 0 evaluates only at the end.'),
        batches: positiveInt().default(8).describe('Eval batches per evaluation.'),
      })
      .prefault({})
      .describe('Evaluation on the eval split during training.'),
    log_every: positiveInt().default(10).describe('Log training metrics every this many steps.'),
    max_nonfinite_steps: positiveInt()
      .default(5)
      .describe('Steps with NaN or infinite gradients are skipped and counted; this many in a row stops the run.'),
  })
  .describe('Supervised fine-tuning.');

/** RL from rewards (GRPO-style groups); the fields live in rl.ts beside probes and rewards. */
export const rlTrainerSchema = z
  .strictObject({
    kind: z.literal('rl').describe('Reinforcement learning: G rollouts per prompt, weighted rewards, group-relative advantages.'),
    optimizer: adamwSchema,
    schedule: scheduleSchema,
    ...rlFields,
  })
  .describe('RL with rewards (probe rewards read the frozen copy).');

/** Every trainer kind. Add a kind here and everything else follows. */
export const trainerKinds = [sftTrainerSchema, rlTrainerSchema] as const;

/** The `trainer` section: one trainer, chosen by `kind`. */
export const trainerSchema = z
  .discriminatedUnion('kind', trainerKinds)
  .describe('How the model is trained; `kind` picks the trainer.');

/** Scale the whole gradient down when its global L2 norm exceeds `max_norm`. */
export const clipSchema = z
  .strictObject({
    kind: z.literal('clip').describe('Clip the global gradient norm.'),
    max_norm: z
      .number()
      .positive()
      .describe('Largest global L2 norm of the gradient; larger gradients are scaled down to it.'),
  })
  .describe('Gradient clipping by global norm.');

/** Remove the update's components along an unwanted subspace. */
export const projectOutSchema = z
  .strictObject({
    kind: z.literal('project_out').describe('Project the update off an unwanted subspace U: g ← g − Uᵀ(Ug).'),
    unwanted: dataRefSchema.optional().describe('U from gradients of the loss on these examples of the unwanted behaviour.'),
    directions: existingFile().optional().describe(`U from a gradient directions file (bonsai directions --kind gradient). ${PATH_NOTE}`),
    top_k: positiveInt().default(4).describe('Keep at most this many directions (the strongest), after orthonormalising.'),
    batches: positiveInt().default(4).describe('Unwanted batches per refresh; each gives one sample gradient.'),
    every: positiveInt().default(10).describe('Recompute U from the unwanted data every this many steps.'),
    params: z.string().min(1).optional().describe('Glob of parameter paths to project. Default: all.'),
  })
  .refine((p) => (p.unwanted === undefined) !== (p.directions === undefined), { message: 'needs exactly one of "unwanted" (data) or "directions" (a file)' })
  .describe('Gradient projection away from an unwanted subspace.');

const objectiveSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_]+$/).describe('Name in metric keys.'),
  data: dataRefSchema.describe("The objective's examples (next-token loss)."),
  weight: z.number().positive().default(1).describe("Scale of this objective's gradient."),
});

/** PCGrad between the training loss and named extra objectives. */
export const pcgradSchema = z
  .strictObject({
    kind: z.literal('pcgrad').describe('PCGrad: project conflicting objective gradients off each other, then sum.'),
    objectives: z.array(objectiveSchema).min(1).describe('Objectives besides the training loss (e.g. a retain set).'),
  })
  .describe('Gradient surgery between objectives.');

/** Log how much of each step lies along named directions; changes nothing. */
export const observeSchema = z
  .strictObject({
    kind: z.literal('observe').describe('Log cosine and projection of each update along named directions.'),
    directions: z
      .array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_]+$/).describe('Name in metric keys.'), data: dataRefSchema.describe("Direction: the gradient of this data's loss.") }))
      .min(1)
      .describe('Named directions to measure each update against.'),
    every: positiveInt().default(10).describe('Recompute the directions every this many steps.'),
  })
  .describe('An instrument panel: no change to the update.');

/** Every gradient-transform kind. Add a kind here and everything else follows. */
export const gradientKinds = [clipSchema, projectOutSchema, pcgradSchema, observeSchema] as const;

/** One gradient transform, chosen by `kind`. */
export const gradientSchema = z.discriminatedUnion('kind', gradientKinds);

/** The `gradients` section: transforms applied in order between computing and applying gradients. */
export const gradientsSchema = z
  .array(gradientSchema)
  .default([])
  .describe('Gradient transforms, applied in list order to every update before the optimizer.');
