/**
 * Gradient-transform kinds (the recipe's `gradients` list): schema and checks of each.
 * Their builders are in gradients/builders.ts. Add a kind: an entry here, its builder
 * there (the compiler asks for it), and a test in test/gradients/.
 */
import { z } from 'zod';
import { checkParamGlob, readOrReport } from '../registry/check-helpers.ts';
import { dataRefSchema, existingFile, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { kind, kindTable, kindUnion } from '../registry/kinds.ts';
import { loadDirections } from './directions-file.ts';

const objectiveSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_]+$/).describe('Name in metric keys.'),
  data: dataRefSchema.describe("The objective's examples (next-token loss)."),
  weight: z.number().positive().default(1).describe("Scale of this objective's gradient."),
});

/** Every gradient-transform kind. */
export const gradientKinds = kindTable({
  clip: kind({
    schema: z
      .strictObject({
        kind: z.literal('clip').describe('Clip the global gradient norm.'),
        max_norm: z.number().positive().describe('Largest global L2 norm of the gradient; larger gradients are scaled down to it.'),
      })
      .describe('Gradient clipping by global norm.'),
  }),
  project_out: kind({
    schema: z
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
      .describe('Gradient projection away from an unwanted subspace.'),
    check(g, at, ctx) {
      if (g.params !== undefined) checkParamGlob(g.params, [...at, 'params'], ctx);
      const model = ctx.model;
      if (g.directions === undefined || !model) return;
      const file = readOrReport(() => loadDirections(g.directions!, 'gradient'), [...at, 'directions'], ctx);
      const paths = new Set(file?.vectors.flatMap((v) => Object.keys(v)));
      for (const path of paths) {
        if (!model.params.has(path)) ctx.report([...at, 'directions'], `${g.directions} has a direction for parameter "${path}", which this model does not have (directions from another model?)`);
      }
    },
  }),
  pcgrad: kind({
    schema: z
      .strictObject({
        kind: z.literal('pcgrad').describe('PCGrad: project conflicting objective gradients off each other, then sum.'),
        objectives: z.array(objectiveSchema).min(1).describe('Objectives besides the training loss (e.g. a retain set).'),
      })
      .describe('Gradient surgery between objectives.'),
  }),
  observe: kind({
    schema: z
      .strictObject({
        kind: z.literal('observe').describe('Log cosine and projection of each update along named directions.'),
        directions: z
          .array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_]+$/).describe('Name in metric keys.'), data: dataRefSchema.describe("Direction: the gradient of this data's loss.") }))
          .min(1)
          .describe('Named directions to measure each update against.'),
        every: positiveInt().default(10).describe('Recompute the directions every this many steps.'),
      })
      .describe('An instrument panel: no change to the update.'),
  }),
});

/** One gradient transform, chosen by `kind`. */
const gradientSchema = kindUnion(gradientKinds);

/** The `gradients` section: transforms applied in order between computing and applying gradients. */
export const gradientsSchema = z
  .array(gradientSchema)
  .default([])
  .describe('Gradient transforms, applied in list order to every update before the optimizer.');
