/**
 * Recipes for weight edits (`job: edit`), run by `bonsai edit RECIPE`: the model to edit,
 * and one `edit` section saying how. Sections shared with training recipes (run, backend,
 * model) use the training schema's own definitions, so they read and fail the same way.
 */
import { z } from 'zod';
import { PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { backendSchema, datasetSchema, modelSchema, runSchema } from './schema.ts';
import { heldOutProblem } from '../gradients/held-out.ts';
import type { Finding } from './issues.ts';

/** The MLP matrices, as in the paper (kept in step with gradients/kfac-sites.ts). */
const DEFAULT_TARGETS = ['blocks.*.mlp.W_in', 'blocks.*.mlp.W_out'];

const rhoValue = z.number().gt(0).max(1);

/** The rule that chooses one ρ for every target on a held-out split (gradients/kfac-rule.ts). */
const chooseRhoSchema = z
  .strictObject({
    validation: datasetSchema.describe('A held-out split of what the model should keep doing: it must share no item with edit.data or `test`.'),
    max_loss_increase: z.number().gt(0).describe("How far the edit may raise the validation split's loss over the unedited model's, in nats per token (b: perplexity at most e^b times the unedited one)."),
    step: z.number().gt(0).max(0.5).default(0.005).describe('ρ is walked down from 1 in steps of this size; the last ρ within the budget is chosen.'),
    min_rho: rhoValue.default(0.5).describe('The lowest ρ tried.'),
    test: z.array(datasetSchema).default([]).describe('The data results are reported on (test splits): a validation item among them is refused.'),
  })
  .describe('Choose ρ (one value for every target) as the strongest edit whose held-out loss stays within a budget; the memorised items are never read.');

/** The K-FAC curvature edit (Merullo et al., arXiv 2510.24256); see docs/kfac-edit.md. */
export const kfacEditSchema = z
  .strictObject({
    kind: z.literal('kfac').describe('kfac: keep the high-curvature components of each target, drop the rest.'),
    data: datasetSchema.describe('Text to estimate the curvature on (e.g. a sample of the training mix).'),
    seq_len: positiveInt().optional().describe("Tokens per sequence of that data. Omitted: the model's n_ctx."),
    targets: z.array(z.string().min(1)).min(1).default(DEFAULT_TARGETS).describe(`Parameter path globs of the matrices to edit (* matches any text). Default: ${DEFAULT_TARGETS.join(', ')}.`),
    rho: z
      .union([rhoValue, z.record(z.string().min(1), rhoValue)])
      .optional()
      .describe('Share of the curvature mass to keep, in (0, 1]: one value for every target, or a mapping from target glob to value (the first glob matching a target wins). Give rho or choose_rho.'),
    choose_rho: chooseRhoSchema.optional(),
    fisher: z.enum(['sampled', 'empirical']).default('sampled').describe("sampled: labels drawn from the model's own distribution (the true Fisher); empirical: the data's labels."),
    tokens: positiveInt().default(20000).describe('Token positions to collect the curvature over (whole batches).'),
    batch_size: positiveInt().default(16).describe('Sequences per curvature batch.'),
    factors: z.string().min(1).optional().describe(`A factors file: reused when it exists (refused if it belongs to another model), else written there. Default: <out_dir>/kfac-factors.safetensors. ${PATH_NOTE}`),
    select: z.enum(['curvature', 'random']).default('curvature').describe('curvature: the method. random: a control removing as many components per target, drawn at random from the same eigenbasis.'),
  })
  .refine((e) => (e.rho === undefined) !== (e.choose_rho === undefined), {
    path: ['rho'],
    message: 'give exactly one of rho (a fixed share) and choose_rho (the rule that chooses it on a held-out split)',
  })
  .describe('The weight edit to apply.');

/**
 * A `job: edit` recipe. `defaultName` is run.name when the recipe does not set one; the
 * loader passes the file's basename. The model must come from saved weights.
 */
export function editRecipeSchemaFor(defaultName: string) {
  return z
    .strictObject({
      job: z.literal('edit').describe('What this recipe runs: edit (a weight edit, `bonsai edit RECIPE`).'),
      run: runSchema(defaultName),
      backend: backendSchema,
      model: modelSchema,
      edit: kfacEditSchema,
    })
    .refine((r) => !('config' in r.model.init && r.model.init.config), {
      path: ['model', 'init'],
      message: 'an edit needs saved weights: init.checkpoint or init.hf (a fresh init.config has nothing to edit)',
    })
    .describe('A bonsai edit recipe: a weight edit applied to a saved model.');
}

/** A validated edit recipe with every default filled in. */
export type EditRecipe = z.output<ReturnType<typeof editRecipeSchemaFor>>;

/**
 * Checks beyond the schema, located by the loader: the choose_rho validation split holds
 * items and shares none with the curvature data or the test splits.
 */
export function checkEditRecipe(recipe: EditRecipe | undefined): Finding[] {
  const rule = recipe?.edit.choose_rho;
  if (!rule) return [];
  const apart = [{ ref: recipe.edit.data, role: 'edit.data' }, ...rule.test.map((ref, i) => ({ ref, role: `test[${i}]` }))];
  const problem = heldOutProblem(rule.validation, apart);
  return problem ? [{ path: ['edit', 'choose_rho', 'validation'], detail: problem }] : [];
}
