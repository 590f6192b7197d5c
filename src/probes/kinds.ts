/**
 * Probe kinds (probes[].kind): the classifier a probe fits. Their builders (initial
 * weights) are in probes/fit.ts; the forward pass per kind is in probes/probe.ts.
 */
import { z } from 'zod';
import { existingDirectory, existingFile, metricName, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { kind, kindTable, kindUnion } from '../registry/kinds.ts';

/** Every probe kind. */
export const probeKinds = kindTable({
  logistic: kind({
    schema: z.strictObject({
      kind: z.literal('logistic').describe('Logistic regression, class-balanced, L2-penalised.'),
      l2: z.number().nonnegative().default(1e-3).describe('L2 penalty on the weights.'),
    }),
  }),
  mlp: kind({
    schema: z.strictObject({
      kind: z.literal('mlp').describe('An MLP with one hidden ReLU layer, class-balanced, L2-penalised.'),
      hidden: positiveInt().default(32).describe('Hidden width.'),
      l2: z.number().nonnegative().default(1e-4).describe('L2 penalty on the weight matrices.'),
    }),
  }),
});

/** The `probes[].kind` field. */
const probeKindSchema = kindUnion(probeKinds).prefault({ kind: 'logistic' }).describe('The classifier.');

const probeTrainSchema = z
  .strictObject({
    data: existingFile().describe(`JSONL, one {"prompt", "completion", "label": 0|1} per line; token probes read the completion tokens. ${PATH_NOTE}`),
    held_out: z.number().gt(0).lt(1).default(0.2).describe('Share of rows held out for early stopping and the reported metrics.'),
    max_epochs: positiveInt().default(400).describe('Most full-batch epochs.'),
    patience: positiveInt().default(25).describe('Stop after this many epochs without a better held-out loss.'),
    seed: z.int().nonnegative().default(0).describe('Seed of the held-out split and init.'),
  })
  .describe('How `bonsai probe train` fits the probe.');

const probeSchema = z
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
