/**
 * Recipes for sparse autoencoders (`job: sae`), run by `bonsai sae train RECIPE`: the frozen
 * model, the hook and the text whose activations the SAE reconstructs, and how to train it.
 * Sections shared with training recipes (run, backend, model, tracking) use the training
 * schema's own definitions, so they read and fail the same way.
 */
import { z } from 'zod';
import { nonNegativeInt, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { backendSchema, datasetSchema, modelSchema, runSchema, trackingSchema } from './schema.ts';

/** The TopK SAE (Gao et al. 2024); see docs/results/sae.md. */
const saeSectionSchema = z
  .strictObject({
    hook: z.string().min(1).describe('Hook point whose activations it reconstructs, e.g. blocks.1.hook_resid_post (checked against the model when the job starts).'),
    data: datasetSchema.describe('Text whose activations are read: text (windows of n_ctx tokens) or jsonl ({"text"} or {"prompt","completion"} lines).'),
    expansion: positiveInt().default(8).describe('Latents per activation dimension: latents = expansion × the hook width.'),
    k: positiveInt().default(16).describe('Active latents per token (TopK).'),
    steps: positiveInt().default(2000).describe('Adam steps.'),
    batch_size: positiveInt().default(256).describe('Activation rows (tokens) per step.'),
    lr: z.number().positive().default(1e-3).describe('Adam learning rate.'),
    max_tokens: positiveInt().default(200_000).describe('Most activation rows read from the data (the first ones).'),
    held_out: z.number().gt(0).lt(1).default(0.1).describe('Share of rows held out for the reported MSE and fraction of variance explained.'),
    aux_k: nonNegativeInt().default(32).describe('Dead latents the AuxK loss uses to reconstruct the residual (0: no AuxK).'),
    aux_coef: z.number().nonnegative().default(1 / 32).describe('Weight of the AuxK loss (the paper: 1/32).'),
    dead_steps: positiveInt().default(200).describe('A latent that has not fired for this many steps counts as dead for AuxK.'),
    seed: nonNegativeInt().optional().describe('Seed of the init, the held-out split and the batches. Default: run.seed.'),
    out: z.string().min(1).optional().describe(`Where the SAE is saved (sae.json + sae.safetensors). Default: <run.out_dir>/sae. ${PATH_NOTE}`),
    log_every: positiveInt().default(100).describe('Log the losses every this many steps.'),
  })
  .describe('The sparse autoencoder to train.');

/** A `job: sae` recipe; `defaultName` is run.name when the recipe does not set one. */
export function saeRecipeSchemaFor(defaultName: string) {
  return z
    .strictObject({
      job: z.literal('sae').describe('What this recipe runs: sae (a sparse autoencoder on a frozen model, `bonsai sae train RECIPE`).'),
      run: runSchema(defaultName),
      backend: backendSchema,
      model: modelSchema,
      sae: saeSectionSchema,
      tracking: trackingSchema,
    })
    .describe('A bonsai SAE recipe: a TopK sparse autoencoder on one hook of a frozen model.');
}

/** A validated SAE recipe with every default filled in. */
export type SaeRecipe = z.output<ReturnType<typeof saeRecipeSchemaFor>>;
