/**
 * RL policy-loss kinds (trainer.loss): schema of each. Their builders are in
 * trainer/rl-loss.ts (`rlLossBuilders`), beside the losses themselves.
 */
import { z } from 'zod';
import { kind, kindTable, kindUnion } from '../../registry/kinds.ts';

/** Every RL loss kind. */
export const rlLossKinds = kindTable({
  clipped_pg: kind({
    schema: z.strictObject({ kind: z.literal('clipped_pg').describe('PPO/GRPO clipped surrogate.'), epsilon: z.number().positive().default(0.2).describe('Clip range ε.') }),
  }),
  cispo: kind({
    schema: z.strictObject({ kind: z.literal('cispo').describe('CISPO: clipped, stop-gradient importance weight times log-prob.'), epsilon_high: z.number().positive().default(0.2).describe('Upper clip of the weight.') }),
  }),
});

/** The `trainer.loss` field. */
export const rlLossSchema = kindUnion(rlLossKinds).prefault({ kind: 'clipped_pg' }).describe('The policy loss (token mean).');
