/**
 * Recipe sections for RL with probe rewards: `probes`, `rewards`, and the pieces of the
 * `rl` trainer (loss and advantage components, rollouts, the runtime intervention). Kept
 * beside schema.ts so the core sections stay short; each swappable part is a component.
 */
import { z } from 'zod';
import { existingFile, nonNegativeInt, PATH_NOTE, positiveInt } from './fields.ts';

const name = () =>
  z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (it becomes a metric key)').describe('Name, used in metric keys (rewards/<name>/mean).');

/** Probe kinds (components). */
export const probeKinds = [
  z.strictObject({
    kind: z.literal('logistic').describe('Logistic regression, class-balanced, L2-penalised.'),
    l2: z.number().nonnegative().default(1e-3).describe('L2 penalty on the weights.'),
  }),
  z.strictObject({
    kind: z.literal('mlp').describe('An MLP with one hidden ReLU layer, class-balanced, L2-penalised.'),
    hidden: positiveInt().default(32).describe('Hidden width.'),
    l2: z.number().nonnegative().default(1e-4).describe('L2 penalty on the weight matrices.'),
  }),
] as const;

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
    name: name().describe('Probe name; rewards and interventions refer to it.'),
    hook: z.string().min(1).describe('Hook point it reads, e.g. blocks.1.hook_resid_post (checked against the model when it loads).'),
    level: z.enum(['token', 'sequence']).default('token').describe('token: one score per completion token; sequence: one per sequence (its last token).'),
    kind: z.discriminatedUnion('kind', probeKinds).prefault({ kind: 'logistic' }).describe('The classifier.'),
    checkpoint: z.string().min(1).optional().describe(`Saved probe directory (probe.json + probe.safetensors). Default: <run.out_dir>/probes/<name>. ${PATH_NOTE}`),
    train: probeTrainSchema.optional(),
  })
  .describe('A probe on the frozen copy.');

const weight = () => z.number().default(1).describe('Weight of this reward in the sum.');
export const rewardKinds = [
  z.strictObject({
    kind: z.literal('probe').describe("A probe's score on the completion tokens."),
    name: name(),
    weight: weight(),
    probe: z.string().min(1).describe('Name of a probe in `probes`.'),
    aggregate: z.enum(['mean', 'max', 'any']).default('max').describe('Per-token scores → one per rollout: mean, max, or any-above-threshold (0/1).'),
    sign: z.union([z.literal(1), z.literal(-1)]).default(-1).describe('-1 penalises what the probe detects, +1 rewards it.'),
    host: z
      .enum(['frozen', 'policy'])
      .default('frozen')
      .describe('frozen: read the frozen copy (from the reference pass, no extra forward). policy: read the live policy — the variant a policy can GAME by changing its activations; for comparison only.'),
  }),
  z.strictObject({ kind: z.literal('exact_match').describe('1 if the completion (up to `stop`) equals the prompt\'s "completion" answer.'), name: name(), weight: weight(), stop: z.string().optional().describe('Text that ends the answer, e.g. "\\n".') }),
  z.strictObject({ kind: z.literal('regex').describe('1 if the completion matches `pattern`.'), name: name(), weight: weight(), pattern: z.string().min(1).describe('JavaScript regular expression.'), invert: z.boolean().default(false).describe('Reward NOT matching.') }),
  z.strictObject({ kind: z.literal('length').describe('-|length - target| / target, in tokens.'), name: name(), weight: weight(), target: positiveInt().describe('Target completion length in tokens.') }),
  z.strictObject({
    kind: z.literal('module').describe("A user's JS/TS module exporting (batch) => number[]; runs with the recipe's trust."),
    name: name(),
    weight: weight(),
    path: existingFile().describe(`The module file. ${PATH_NOTE}`),
    export: z.string().min(1).default('default').describe('Name of the exported function.'),
  }),
] as const;

export const probesSchema = z.array(probeSchema).default([]).describe('Probes on the frozen copy (trained with `bonsai probe train`).');
export const rewardsSchema = z.array(z.discriminatedUnion('kind', rewardKinds)).default([]).describe('RL rewards, weighted and summed; each logged as rewards/<name>/mean|std.');

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
  loss: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('clipped_pg').describe('PPO/GRPO clipped surrogate.'), epsilon: z.number().positive().default(0.2).describe('Clip range ε.') }),
      z.strictObject({ kind: z.literal('cispo').describe('CISPO: clipped, stop-gradient importance weight times log-prob.'), epsilon_high: z.number().positive().default(0.2).describe('Upper clip of the weight.') }),
    ])
    .prefault({ kind: 'clipped_pg' })
    .describe('The policy loss (token mean).'),
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
