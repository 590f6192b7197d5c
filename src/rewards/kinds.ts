/**
 * Reward kinds (the recipe's `rewards` list): schema and checks of each. Their builders
 * are in rewards/build.ts. Add a kind: an entry here, its builder there (the compiler asks
 * for it), and a test in test/rewards/.
 */
import { z } from 'zod';
import { existingFile, metricName, nonNegativeInt, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { kind, kindTable, kindUnion, type CheckContext } from '../registry/kinds.ts';
import type { PathSegment } from '../registry/kinds.ts';

const weight = () => z.number().default(1).describe('Weight of this reward in the sum.');

/** Every reward kind. */
export const rewardKinds = kindTable({
  probe: kind({
    schema: z.strictObject({
      kind: z.literal('probe').describe("A probe's score on the completion tokens."),
      name: metricName(),
      weight: weight(),
      probe: z.string().min(1).describe('Name of a probe in `probes`.'),
      aggregate: z
        .enum(['mean', 'max', 'any', 'none'])
        .default('max')
        .describe('Per-token scores → one per rollout: mean, max, or any-above-threshold (0/1). none: no aggregation, a per-token reward (one score per completion token; the loss uses per-token advantages, docs/per-token-rewards.md).'),
      sign: z.union([z.literal(1), z.literal(-1)]).default(-1).describe('-1 penalises what the probe detects, +1 rewards it.'),
      host: z
        .enum(['frozen', 'policy'])
        .default('frozen')
        .describe('frozen: read the frozen copy (from the reference pass, no extra forward). policy: read the live policy — the variant a policy can GAME by changing its activations; for comparison only.'),
    }),
    check: (r, at, ctx) => checkProbeName(r.probe, [...at, 'probe'], ctx),
  }),
  abstention: kind({
    schema: z.strictObject({
      kind: z.literal('abstention').describe("A knowledge probe on the frozen copy pays for abstaining and charges for answering: s − τ for an abstention, τ − s for anything else (s: the probe's score that the model does not know, read once at completion token `at`; τ: its threshold). docs/probes-rl.md."),
      name: metricName(),
      weight: weight(),
      probe: z.string().min(1).describe('Name of a probe in `probes` (1 = the model does not know), trained at the position it is read.'),
      at: nonNegativeInt().default(0).describe('Completion token whose frozen-copy activations the probe reads (0: the first, e.g. the answer\'s leading space).'),
      abstain: z.string().min(1).describe('JavaScript regular expression an abstention matches, e.g. "^ unknown\\n".'),
      retract: z.string().min(1).optional().describe('Regular expression a claim followed by a retraction matches; paid as an abstention less retract_cost.'),
      retract_cost: z.number().nonnegative().default(0.1).describe('What a retraction costs against abstaining straight away.'),
      threshold: z.number().gt(0).lt(1).optional().describe("τ: where a claim starts to cost. Default: the probe's own threshold."),
      per_token: z.boolean().default(false).describe('Spread the value over the completion tokens (a per-token reward, docs/per-token-rewards.md).'),
    }),
    check(r, at, ctx) {
      checkProbeName(r.probe, [...at, 'probe'], ctx);
      for (const f of ['abstain', 'retract'] as const) {
        const pattern = r[f];
        if (pattern === undefined) continue;
        try {
          new RegExp(pattern);
        } catch (e) {
          ctx.report([...at, f], `not a valid JavaScript regular expression: ${(e as Error).message}`);
        }
      }
      const level = ctx.recipe.probes?.find?.((p) => p?.name === r.probe)?.level;
      if (level === 'token') ctx.report([...at, 'probe'], `probe "${r.probe}" is token level; the abstention reward reads one position and needs a sequence-level probe trained there`);
    },
  }),
  exact_match: kind({
    schema: z.strictObject({ kind: z.literal('exact_match').describe('1 if the completion (up to `stop`) equals the prompt\'s "completion" answer.'), name: metricName(), weight: weight(), stop: z.string().optional().describe('Text that ends the answer, e.g. "\\n".') }),
  }),
  regex: kind({
    schema: z.strictObject({ kind: z.literal('regex').describe('1 if the completion matches `pattern`.'), name: metricName(), weight: weight(), pattern: z.string().min(1).describe('JavaScript regular expression.'), invert: z.boolean().default(false).describe('Reward NOT matching.') }),
    check(r, at, ctx) {
      try {
        new RegExp(r.pattern);
      } catch (e) {
        ctx.report([...at, 'pattern'], `not a valid JavaScript regular expression: ${(e as Error).message}`);
      }
    },
  }),
  length: kind({
    schema: z.strictObject({ kind: z.literal('length').describe('-|length - target| / target, in tokens.'), name: metricName(), weight: weight(), target: positiveInt().describe('Target completion length in tokens.') }),
  }),
  module: kind({
    schema: z.strictObject({
      kind: z.literal('module').describe("A user's JS/TS module exporting (batch) => number[]; runs with the recipe's trust."),
      name: metricName(),
      weight: weight(),
      path: existingFile().describe(`The module file. ${PATH_NOTE}`),
      export: z.string().min(1).default('default').describe('Name of the exported function.'),
    }),
  }),
});

/** The `rewards` section. */
export const rewardsSchema = z.array(kindUnion(rewardKinds)).default([]).describe('RL rewards, weighted and summed; each logged as rewards/<name>/mean|std.');

/** Reports a probe name that is not in the recipe's `probes` (skipped while `probes` itself is invalid). */
export function checkProbeName(name: string, at: readonly PathSegment[], ctx: CheckContext): void {
  const probes = ctx.recipe.probes;
  if (!probes || Object.keys(probes).length !== probes.length) return;
  const names = probes.map((p) => p.name);
  if (!names.includes(name)) ctx.report(at, `no probe named "${name}" in probes (probes: ${names.join(', ') || 'none'})`);
}
