/**
 * Builders of the reward kinds (rewards/kinds.ts): one per kind, which the compiler
 * enforces, so a kind added to the table cannot be silently left out here.
 */
import type { Probe } from '../probes/probe.ts';
import { build, type Builders } from '../registry/kinds.ts';
import type { Recipe } from '../recipe/schema.ts';
import { abstentionReward } from './abstention.ts';
import { exactMatchReward, lengthReward, regexReward } from './basic.ts';
import type { rewardKinds } from './kinds.ts';
import { moduleReward } from './module.ts';
import { probeReward } from './probe.ts';
import type { Reward } from './types.ts';

/** A reward for every reward kind; `probes` are the recipe's loaded probes, by name. */
export const rewardBuilders: Builders<typeof rewardKinds, [probes: Map<string, Probe>], Reward | Promise<Reward>> = {
  // Each reward reads its own copy of the probe's weights, so disposing one never breaks another.
  probe: (r, probes) => probeReward({ name: r.name, weight: r.weight, probe: probes.get(r.probe)!.clone(), aggregate: r.aggregate, sign: r.sign, host: r.host }),
  abstention: (r, probes) =>
    abstentionReward({
      name: r.name, weight: r.weight, probe: probes.get(r.probe)!.clone(), at: r.at, abstain: new RegExp(r.abstain),
      retract: r.retract === undefined ? undefined : new RegExp(r.retract), retractCost: r.retract_cost, threshold: r.threshold, perToken: r.per_token,
    }),
  exact_match: (r) => exactMatchReward(r.name, r.weight, r.stop),
  regex: (r) => regexReward(r.name, r.weight, r.pattern, r.invert),
  length: (r) => lengthReward(r.name, r.weight, r.target),
  module: (r) => moduleReward(r.name, r.weight, r.path, r.export),
};

/** The recipe's `rewards` list as Reward components, in order. Probes are loaded by the caller. */
export async function buildRewards(recipe: Pick<Recipe, 'rewards'>, probes: Map<string, Probe>): Promise<Reward[]> {
  const out: Reward[] = [];
  for (const r of recipe.rewards) out.push(await build(rewardBuilders, r.kind, r, probes));
  return out;
}
