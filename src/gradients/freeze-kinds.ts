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
import { heldOutProblem, type DataRef } from './held-out.ts';
import { headNote, parseIndexed } from './select.ts';

const guardSchema = z
  .strictObject({
    data: dataRefSchema.describe("A held-out split of the old task's data: the check reads its exact-match accuracy (every completion token the argmax, teacher-forced). It must share no item with `test`, data.eval or the evals' data."),
    max_drop: z.number().min(0).max(1).default(0.05).describe('How far (a fraction: 0.05 = 5 points) that accuracy may fall below its value at the start before more entries are frozen.'),
    every: positiveInt().default(10).describe('Updates between checks.'),
    grow_percent: z.number().gt(0).max(100).default(0.5).describe('Percentage of the scored entries frozen per growth, the next in attribution order (set back to their starting values first).'),
    test: z.array(dataRefSchema).default([]).describe('The data results are reported on (test splits): a guard item among them is refused.'),
  })
  .describe('Grow the frozen set during the run: every `every` updates check the old task on a held-out split; while its accuracy has fallen more than max_drop, freeze the next grow_percent of entries by attribution (back at their starting values). top_percent is then where it starts.');

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
    guard: guardSchema.optional(),
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
      const guard = s.attribution.guard;
      if (guard) checkGuard(guard, [...at, 'attribution', 'guard'], ctx);
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

/** The guard's split holds items and none of the reported ones; one guard per recipe. */
function checkGuard(guard: z.output<typeof guardSchema>, at: readonly PathSegment[], ctx: CheckContext): void {
  const evalData = ctx.recipe.data?.eval;
  const apart = [
    ...guard.test.map((ref, i) => ({ ref, role: `test[${i}]` })),
    ...(evalData ? [{ ref: evalData as DataRef, role: 'data.eval' }] : []),
    ...(ctx.recipe.evals ?? []).map((e, i) => ({ ref: e.data as DataRef, role: `evals[${i}] (${e.name})` })),
  ];
  const problem = heldOutProblem(guard.data, apart);
  if (problem) ctx.report([...at, 'data'], problem);
  const hasGuard = (f: unknown) => typeof f === 'object' && f !== null && !!(f as { attribution?: { guard?: unknown } }).attribution?.guard;
  const guarded = (ctx.recipe.freeze ?? []).flatMap((f, i) => (hasGuard(f) ? [i] : []));
  if (guarded.length > 1 && at[1] !== guarded[0]) ctx.report(at, `only one attribution selector may have a guard (freeze[${guarded[0]}] has one): a guard grows one frozen set`);
}

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
