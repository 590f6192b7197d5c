/**
 * Optimizer and learning-rate-schedule kinds: schema (and, for schedules, the decay shape,
 * which is plain arithmetic). The optimizer builders are in trainer/build.ts.
 */
import { z } from 'zod';
import { nonNegativeInt } from '../../registry/fields.ts';
import { kind, kindTable, kindUnion } from '../../registry/kinds.ts';

const beta = z.number().min(0).lt(1);

/** Every optimizer kind. */
export const optimizerKinds = kindTable({
  adamw: kind({
    schema: z.strictObject({
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
    }),
  }),
});

/** The optimizer, chosen by `kind`. */
export const optimizerSchema = kindUnion(optimizerKinds).describe('The optimizer.');

/**
 * Every schedule kind: the lr at `progress` ∈ [0, 1] of the steps after warmup, from `peak`
 * down to `min` (= min_lr_ratio · peak).
 */
export const scheduleKinds = {
  constant: { lr: (peak: number) => peak, describe: 'lr stays at its peak' },
  cosine: { lr: (peak: number, min: number, progress: number) => min + (peak - min) * (0.5 * (1 + Math.cos(Math.PI * progress))), describe: 'half a cosine down to min_lr_ratio · lr' },
  linear: { lr: (peak: number, min: number, progress: number) => min + (peak - min) * (1 - progress), describe: 'a straight line down to min_lr_ratio · lr' },
} as const satisfies Record<string, { lr(peak: number, min: number, progress: number): number; describe: string }>;

/** A schedule kind's name. */
export type ScheduleKind = keyof typeof scheduleKinds;

const scheduleNames = Object.keys(scheduleKinds) as [ScheduleKind, ...ScheduleKind[]];

/** How the learning rate moves over the run. */
export const scheduleSchema = z
  .strictObject({
    kind: z
      .enum(scheduleNames)
      .default('cosine')
      .describe(`Shape of the decay after warmup: ${scheduleNames.map((k) => `${k} (${scheduleKinds[k].describe})`).join(', ')}.`),
    warmup_steps: nonNegativeInt().default(0).describe('Steps of linear warmup from 0 to lr.'),
    min_lr_ratio: z.number().min(0).max(1).default(0.1).describe('Final learning rate as a fraction of lr (ignored by constant).'),
  })
  .prefault({})
  .describe('Learning-rate schedule.');
