/**
 * Probe kinds (probes[].kind): the classifier a probe fits. Their builders (initial
 * weights) are in probes/fit.ts; the forward pass per kind is in probes/probe.ts.
 */
import { z } from 'zod';
import { positiveInt } from '../registry/fields.ts';
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
export const probeKindSchema = kindUnion(probeKinds).prefault({ kind: 'logistic' }).describe('The classifier.');
