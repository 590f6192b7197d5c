/**
 * Recipe sections for RL with probe rewards: `probes`, `rewards`, and the pieces of the
 * `rl` trainer (loss and advantage components, rollouts, the runtime intervention). Kept
 * beside schema.ts so the core sections stay short; each swappable part is a component.
 */
import { z } from 'zod';
import { probeKindSchema } from '../probes/kinds.ts';
import { rewardsSchema } from '../rewards/kinds.ts';
import { rlLossSchema } from '../trainer/kinds/rl-loss.ts';
import { existingDirectory, existingFile, metricName, nonNegativeInt, PATH_NOTE, positiveInt } from './fields.ts';

export { rewardsSchema };

const probeTrainSchema = z
  .strictObject({
    data: existingFile().describe(`JSONL, one {"prompt", "completion", "label": 0|1} per line; token probes read the completion tokens. ${PATH_NOTE}`),
    held_out: z.number().gt(0).lt(1).default(0.2).describe('Share of rows held out for early stopping and the reported metrics.'),
    max_epochs: positiveInt().default(400).describe('Most full-batch epochs.'),
    patience: positiveInt().default(25).describe('Stop after this many epochs without a better held-out loss.'),
    seed: z.int().nonnegative().default(0).describe('Seed of the held-out split and init.'),
  })
  .describe('How `bonsai probe train` fits the probe.');

export const probeSchema = z
  .strictObject({
    name: metricName().describe('Probe name; rewards and interventions refer to it.'),
    hook: z.string().min(1).describe('Hook point it reads, e.g. blocks.1.hook_resid_post (checked against the model config when the recipe is validated).'),
    level: z.enum(['token', 'sequence']).default('token').describe('token: one score per completion token; sequence: one per sequence (its last token).'),
    kind: probeKindSchema,
    features: z
      .enum(['raw', 'sae', 'logit_lens'])
      .default('raw')
      .describe("What the classifier reads: raw (the hook's activations), sae (the latents of the SAE at `sae`, encoded inside the frozen pass), or logit_lens (the frozen model's next-token log-probabilities: its output head applied at hook ln_final.hook_normalized)."),
    sae: existingDirectory().optional().describe(`With features: sae, the SAE directory (\`bonsai sae train\`); it must be trained on this model and hook. ${PATH_NOTE}`),
    checkpoint: z.string().min(1).optional().describe(`Saved probe directory (probe.json + probe.safetensors). Default: <run.out_dir>/probes/<name>. ${PATH_NOTE}`),
    train: probeTrainSchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.features === 'sae' && p.sae === undefined) ctx.addIssue({ code: 'custom', path: ['sae'], message: 'features: sae needs the SAE directory (sae: DIR, from `bonsai sae train`)' });
    if (p.features === 'logit_lens' && p.hook !== 'ln_final.hook_normalized') ctx.addIssue({ code: 'custom', path: ['hook'], message: `features: logit_lens reads ln_final.hook_normalized (the output head's input), not ${p.hook}` });
    if (p.features !== 'sae' && p.sae !== undefined) ctx.addIssue({ code: 'custom', path: ['features'], message: `sae is set but features is ${p.features}; set features: sae to read the SAE latents, or remove sae` });
  })
  .describe('A probe on the frozen copy.');

export const probesSchema = z.array(probeSchema).default([]).describe('Probes on the frozen copy (trained with `bonsai probe train`).');

/** Fields of the `rl` trainer beyond the shared optimizer/schedule. */
export const rlFields = {
  steps: positiveInt().describe('Optimizer steps (one rollout batch each, times inner_epochs updates).'),
  batch_size: positiveInt().describe('Prompts per step.'),
  group_size: positiveInt().default(8).describe('Rollouts per prompt (G): advantages are relative within the group.'),
  max_new_tokens: positiveInt().default(16).describe('Most tokens sampled per rollout.'),
  temperature: z.number().positive().default(1).describe('Rollout sampling temperature.'),
  top_p: z.number().gt(0).max(1).default(1).describe('Rollout nucleus sampling.'),
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
