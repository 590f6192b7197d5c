/**
 * Intervention kinds (the recipe's `interventions` list): schema and checks of each. The
 * builders (hook functions) are in gradients/interventions.ts.
 */
import { z } from 'zod';
import { checkHook, readOrReport } from '../registry/check-helpers.ts';
import { existingFile, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { kind, kindTable, kindUnion, type CheckContext } from '../registry/kinds.ts';
import type { PathSegment } from '../registry/kinds.ts';
import { hookFeatureWidth } from '../models/layout.ts';
import { loadDirections } from './directions-file.ts';

const directionsField = existingFile().describe(`A directions file written by \`bonsai directions\` (JSON). ${PATH_NOTE}`);
const hookField = () => z.string().min(1).describe('Hook point, e.g. blocks.0.hook_resid_post.');

/** Every intervention kind. */
export const interventionKinds = kindTable({
  ablate: kind({
    schema: z
      .strictObject({
        kind: z.literal('ablate').describe('Concept ablation (CAFT): a ← a − (aQ)Qᵀ with Q the orthonormalised directions.'),
        hook: hookField(),
        directions: directionsField,
        top_k: positiveInt().optional().describe('Use only the first k directions of the file. Default: all.'),
      })
      .describe('Remove the span of the directions from the activation during training.'),
    check: (iv, at, ctx) => checkDirections(iv.hook, iv.directions, at, ctx),
  }),
  steer: kind({
    schema: z
      .strictObject({
        kind: z.literal('steer').describe('Preventative steering: a ← a + coef · v during training.'),
        hook: hookField(),
        directions: directionsField.describe('Directions file; its first direction is v.'),
        coef: z.number().describe('Steering coefficient (in units of the unit-norm direction).'),
        positions: z.array(z.int().nonnegative()).min(1).optional().describe('Sequence positions (0-based) to steer at, e.g. [4] for where the answer is decided in a fixed-format prompt. Default: every position.'),
      })
      .describe('Add a fixed direction to the activation during training.'),
    check(iv, at, ctx) {
      checkDirections(iv.hook, iv.directions, at, ctx);
      const n = ctx.model?.config.nCtx;
      const beyond = n === undefined ? [] : (iv.positions ?? []).filter((p) => p >= n);
      if (beyond.length) ctx.report([...at, 'positions'], `positions ${beyond.join(', ')} are past the model's context (n_ctx ${n}: positions 0…${n! - 1})`);
    },
  }),
});

/** The `interventions` section: forward-pass hooks used in training, off at eval and inference. */
export const interventionsSchema = z
  .array(kindUnion(interventionKinds))
  .default([])
  .describe('Training-time activation interventions; evaluation and generation run without them.');

/** The hook exists, has a feature axis, and the directions file's width matches it. */
function checkDirections(hook: string, file: string, at: readonly PathSegment[], ctx: CheckContext): void {
  const model = ctx.model;
  if (!model || !checkHook(hook, [...at, 'hook'], ctx)) return;
  const width = hookFeatureWidth(model.config, hook);
  if (width === undefined) {
    ctx.report([...at, 'hook'], `${hook} is an attention pattern; it cannot be ablated or steered along directions (use hook_z, hook_resid_*, mlp.hook_post, ...)`);
    return;
  }
  const d = readOrReport(() => loadDirections(file, 'activation'), [...at, 'directions'], ctx);
  if (d && d.width !== width) {
    ctx.report([...at, 'directions'], `${file} holds directions of width ${d.width} (computed at ${d.hook}), but hook ${hook} has width ${width}; compute them at the same hook of the same model (bonsai directions --hook ${hook})`);
  }
}
