/**
 * Freeze-selector kinds (the recipe's `freeze` list): a parameter glob, attention heads,
 * MLP neurons, or the top entries by attribution. Schema and checks of each; the builders
 * (selections over the model's weights) are in trainer/design.ts. A selector's kind is told
 * by its shape (`freezeKindOf`), since a glob is a plain string.
 */
import { z } from 'zod';
import { checkParamGlob, readOrReport } from '../registry/check-helpers.ts';
import { dataRefSchema, positiveInt } from '../registry/fields.ts';
import { kind, kindTable, shapeUnion, type CheckContext, type EntryOf } from '../registry/kinds.ts';
import type { PathSegment } from '../registry/kinds.ts';
import { headNote, parseIndexed } from './select.ts';

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

/** Every freeze-selector kind. */
export const freezeKinds = kindTable({
  glob: kind({
    schema: z.string().min(1).describe('A parameter-path glob, e.g. "blocks.0.attn.*" ("*" matches anything).'),
    check: (glob, at, ctx) => void checkParamGlob(glob, at, ctx),
  }),
  heads: kind({
    schema: z.strictObject({ heads: z.string().min(1).describe('Attention heads, e.g. "blocks.1.attn[2,3]": their slices of W_Q, W_K, W_V (columns) and W_O (rows). Under grouped-query attention, query heads: W_Q and W_O only (key/value heads are shared).') }),
    check: (s, at, ctx) => checkIndexed(s.heads, 'attn', [...at, 'heads'], ctx),
  }),
  neurons: kind({
    schema: z.strictObject({ neurons: z.string().min(1).describe('MLP neurons, e.g. "blocks.0.mlp[0,5]": columns of W_in and b_in (and W_gate in gated MLPs), rows of W_out.') }),
    check: (s, at, ctx) => checkIndexed(s.neurons, 'mlp', [...at, 'neurons'], ctx),
  }),
  attribution: kind({
    schema: z.strictObject({ attribution: attributionSchema }),
    check(s, at, ctx) {
      if (s.attribution.params !== undefined) checkParamGlob(s.attribution.params, [...at, 'attribution', 'params'], ctx);
    },
  }),
});

/** A freeze selector's kind, from its shape. */
export function freezeKindOf(s: EntryOf<typeof freezeKinds>): keyof typeof freezeKinds {
  if (typeof s === 'string') return 'glob';
  if ('heads' in s) return 'heads';
  if ('neurons' in s) return 'neurons';
  return 'attribution';
}

/** One freeze selector. */
const freezeSelectorSchema = shapeUnion(freezeKinds);

/** The `freeze` section. */
export const freezeSchema = z
  .array(freezeSelectorSchema)
  .default([])
  .describe('Circuit freezing: selected entries are held bit-identical (gradient, weight decay and optimizer state masked); checked at the end as freeze/verified.');

/** Heads or neurons: the block exists and every index is below the heads (or MLP width) it has. */
function checkIndexed(spec: string, part: 'attn' | 'mlp', at: readonly PathSegment[], ctx: CheckContext): void {
  const parsed = readOrReport(() => parseIndexed(spec, part, 'selector'), at, ctx);
  const c = ctx.model?.config;
  if (!parsed || !c) return;
  if (parsed.layer >= c.nLayers) {
    ctx.report(at, `"${spec}" names block ${parsed.layer} but the model has ${c.nLayers} (0…${c.nLayers - 1})`);
    return;
  }
  const [count, what] = part === 'attn' ? [c.nHeads, 'heads'] : [c.dMlp, 'neurons'];
  const bad = parsed.indices.filter((i) => i >= count);
  const note = part === 'attn' ? headNote(c.nHeads, c.nKvHeads) : '';
  if (bad.length) ctx.report(at, `"${spec}" names ${what} ${bad.join(', ')} but each block has ${count} ${what} (0…${count - 1})${note}`);
}
