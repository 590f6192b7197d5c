/**
 * Recipe sections for intentional design: circuit freezing and training-time
 * interventions. Kept beside (not inside) schema.ts so the core sections stay short.
 */
import { z } from 'zod';
import { existingFile, PATH_NOTE, positiveInt } from './fields.ts';

/** A dataset reference (the same shape as `data.train`). */
export const dataRefSchema = z.strictObject({
  format: z.enum(['text', 'jsonl']).describe('text: plain text; jsonl: one {"prompt", "completion"} object per line.'),
  path: existingFile().describe(`Data file. ${PATH_NOTE}`),
});

const attributionSchema = z
  .strictObject({
    data: dataRefSchema.describe("The task whose circuit to freeze (e.g. the old task's data)."),
    top_percent: z.number().gt(0).max(100).describe('Freeze this percentage of the scored entries, those with the largest |gradient × weight|.'),
    batches: positiveInt().default(8).describe('Batches of trainer.batch_size summed for the scores.'),
    params: z.string().min(1).optional().describe('Glob of parameter paths to score. Default: every matrix.'),
    scores: z
      .enum(['gradient_x_weight', 'fisher', 'random'])
      .default('gradient_x_weight')
      .describe('gradient_x_weight: |g × w|; fisher: g² (with per: example, the empirical Fisher diagonal); random: the same share of the same tensors drawn at random (seeded by run.seed), the control that shows whether attribution picks the right entries.'),
    per: z
      .enum(['batch', 'example'])
      .default('batch')
      .describe('Score each batch\'s gradient (batch), or each example\'s and sum them (example: no cancellation between examples; batch_size times the passes).'),
  })
  .describe('Freeze the top parameters by attribution |gradient × weight| summed over a dataset.');

/** One freeze selector. */
export const freezeSelectorSchema = z.union([
  z.string().min(1).describe('A parameter-path glob, e.g. "blocks.0.attn.*" ("*" matches anything).'),
  z.strictObject({ heads: z.string().min(1).describe('Attention heads, e.g. "blocks.1.attn[2,3]": their slices of W_Q, W_K, W_V (columns) and W_O (rows).') }),
  z.strictObject({ neurons: z.string().min(1).describe('MLP neurons, e.g. "blocks.0.mlp[0,5]": columns of W_in and b_in, rows of W_out.') }),
  z.strictObject({ attribution: attributionSchema }),
]);

/** The `freeze` section. */
export const freezeSchema = z
  .array(freezeSelectorSchema)
  .default([])
  .describe('Circuit freezing: selected entries are held bit-identical (gradient, weight decay and optimizer state masked); checked at the end as freeze/verified.');

const directionsField = existingFile().describe(`A directions file written by \`bonsai directions\` (JSON). ${PATH_NOTE}`);

const ablateSchema = z
  .strictObject({
    kind: z.literal('ablate').describe('Concept ablation (CAFT): a ← a − (aQ)Qᵀ with Q the orthonormalised directions.'),
    hook: z.string().min(1).describe('Hook point, e.g. blocks.0.hook_resid_post.'),
    directions: directionsField,
    top_k: positiveInt().optional().describe('Use only the first k directions of the file. Default: all.'),
  })
  .describe('Remove the span of the directions from the activation during training.');

const steerSchema = z
  .strictObject({
    kind: z.literal('steer').describe('Preventative steering: a ← a + coef · v during training.'),
    hook: z.string().min(1).describe('Hook point, e.g. blocks.0.hook_resid_post.'),
    directions: directionsField.describe('Directions file; its first direction is v.'),
    coef: z.number().describe('Steering coefficient (in units of the unit-norm direction).'),
  })
  .describe('Add a fixed direction to the activation during training.');

/** The `interventions` section: forward-pass hooks used in training, off at eval and inference. */
export const interventionsSchema = z
  .array(z.discriminatedUnion('kind', [ablateSchema, steerSchema]))
  .default([])
  .describe('Training-time activation interventions; evaluation and generation run without them.');
