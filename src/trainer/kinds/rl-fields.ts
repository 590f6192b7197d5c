/**
 * The fields of the `rl` trainer beyond the shared optimizer and schedule: rollouts, the KL
 * penalty, the loss and advantage components, the runtime intervention. Kept apart from
 * trainer.ts so the kinds table stays short.
 */
import { z } from 'zod';
import { rlLossSchema } from './rl-loss.ts';
import { nonNegativeInt, positiveInt } from '../../registry/fields.ts';

/** Fields of the `rl` trainer beyond the shared optimizer/schedule. */
export const rlFields = {
  steps: positiveInt().describe('Optimizer steps (one rollout batch each, times inner_epochs updates).'),
  batch_size: positiveInt().describe('Prompts per step.'),
  group_size: positiveInt().default(8).describe('Rollouts per prompt (G): advantages are relative within the group.'),
  max_new_tokens: positiveInt().default(16).describe('Most tokens sampled per rollout.'),
  temperature: z.number().positive().optional().describe("Rollout sampling temperature. Default: the model's generation_config.json temperature (tokenizer hf), else 1."),
  top_p: z.number().gt(0).max(1).optional().describe("Rollout nucleus sampling. Default: generation_config.json's top_p (tokenizer hf), else 1 (off)."),
  top_k: positiveInt().optional().describe("Rollouts sample among the k most likely tokens. Default: generation_config.json's top_k (tokenizer hf), else off."),
  stop: z.array(z.string().min(1)).default(['\n']).describe('Texts whose (single) token ends a rollout; EOS always does.'),
  kl_beta: z.number().nonnegative().default(0.05).describe('Weight of the k3 KL penalty to the frozen reference; 0 turns it off.'),
  inner_epochs: positiveInt().default(1).describe('Updates per rollout batch.'),
  loss: rlLossSchema,
  advantage: z
    .strictObject({ scale_by_std: z.boolean().default(true).describe('Divide by the group std (false: Dr. GRPO).') })
    .prefault({})
    .describe('GRPO advantages: each reward minus its group mean (the rollouts of the same prompt).'),
  intervention: z
    .strictObject({
      probe: z.string().min(1).describe('Probe (in `probes`, on the frozen copy) read at the prefix before each token.'),
      insert: z.string().min(1).describe('Text inserted when it fires, e.g. " I don\'t know."'),
      max_per_sequence: positiveInt().default(1).describe('Most insertions per rollout.'),
    })
    .optional()
    .describe('Runtime intervention during rollouts; inserted tokens carry no loss and are counted as train/interventions.'),
  log_every: positiveInt().default(1).describe('Log metrics every this many steps.'),
  eval: z
    .strictObject({ every: nonNegativeInt().default(0).describe('Evaluate every this many steps; 0 evaluates only at the end.') })
    .prefault({})
    .describe('Evaluation on the data.eval prompts (when given): one rollout each, scored by the rewards, logged as eval/rewards/<name>/mean.'),
  max_nonfinite_steps: positiveInt()
    .default(5)
    .describe('Steps with NaN or infinite gradients are skipped and counted; this many in a row stops the run.'),
};
