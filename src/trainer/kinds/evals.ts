/**
 * Eval kinds (the recipe's `evals` list): task metrics a recipe names, measured on the trained
 * model (no interventions, as at inference) when the run finishes, logged as
 * `eval/<name>/<metric>` at the last step and printed by `bonsai train`. `baseline` names the
 * run (by run name, in the same tracking store and experiment) whose value the command prints
 * beside this run's, e.g. the plain arm of an experiment. Builders: trainer/evals.ts.
 */
import { z } from 'zod';
import { renderedTailIds } from '../../models/input-ids.ts';
import { existingFile, metricName, nonNegativeInt, PATH_NOTE } from '../../registry/fields.ts';
import { kind, kindTable, kindUnion } from '../../registry/kinds.ts';

const data = () =>
  z
    .strictObject({ format: z.literal('jsonl').describe('jsonl: one {"prompt", "completion"} object per line.'), path: existingFile().describe(`Eval data file. ${PATH_NOTE}`) })
    .describe('The examples to measure on, cut to data.seq_len tokens as training reads them.');
const baseline = () => z.string().min(1).optional().describe('Run name of a run to print beside this one (its newest finished run with this eval, in the same store and experiment).');

/** Every eval kind. */
export const evalKinds = kindTable({
  accuracy: kind({
    schema: z.strictObject({
      kind: z.literal('accuracy').describe("Share of examples whose completion token is the model's argmax given the tokens before it (exact match of a one-token answer)."),
      name: metricName(),
      data: data(),
      token: nonNegativeInt().default(0).describe('Which completion token is the answer (0: the first).'),
      baseline: baseline(),
    }),
  }),
  token_prob: kind({
    schema: z.strictObject({
      kind: z.literal('token_prob').describe('Mean probability the model gives `text` as the first completion token.'),
      name: metricName(),
      data: data(),
      text: z.string().min(1).describe('The text whose (single) token is measured, e.g. "Z".'),
      baseline: baseline(),
    }),
    check(e, at, ctx) {
      if (!ctx.tokenizer) return;
      const n = renderedTailIds(ctx.tokenizer, e.text).length;
      if (n !== 1) ctx.report([...at, 'text'], `${JSON.stringify(e.text)} is ${n} tokens with the ${ctx.tokenizer.kind} tokenizer; it must be one token`);
    },
  }),
});

/** The `evals` section. */
export const evalsSchema = z
  .array(kindUnion(evalKinds))
  .optional()
  .describe('Task metrics measured on the trained model when an SFT run finishes, logged as eval/<name>/<metric> and printed by `bonsai train`.');

/** The metric an eval entry logs, without the `eval/<name>/` prefix. */
export const evalMetric = (e: { kind: keyof typeof evalKinds }): string => e.kind;
