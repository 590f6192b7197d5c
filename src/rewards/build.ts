import type { Probe } from '../probes/probe.ts';
import type { Recipe } from '../recipe/schema.ts';
import { exactMatchReward, lengthReward, regexReward } from './basic.ts';
import { moduleReward } from './module.ts';
import { probeReward } from './probe.ts';
import type { Reward } from './types.ts';

/** The recipe's `rewards` list as Reward components, in order. Probes are loaded by the caller. */
export async function buildRewards(recipe: Recipe, probes: Map<string, Probe>): Promise<Reward[]> {
  const out: Reward[] = [];
  for (const r of recipe.rewards) {
    switch (r.kind) {
      case 'probe':
        // Each reward reads its own copy of the probe's weights, so disposing one never breaks another.
        out.push(probeReward({ name: r.name, weight: r.weight, probe: cloneProbe(probes.get(r.probe)!), aggregate: r.aggregate, sign: r.sign, host: r.host }));
        break;
      case 'exact_match':
        out.push(exactMatchReward(r.name, r.weight, r.stop));
        break;
      case 'regex':
        out.push(regexReward(r.name, r.weight, r.pattern, r.invert));
        break;
      case 'length':
        out.push(lengthReward(r.name, r.weight, r.target));
        break;
      case 'module':
        out.push(await moduleReward(r.name, r.weight, r.path, r.export));
        break;
    }
  }
  return out;
}

function cloneProbe(p: Probe): Probe {
  const P = p.constructor as new (m: Probe['meta'], w: Probe['weights']) => Probe;
  return new P({ ...p.meta }, Object.fromEntries(Object.entries(p.weights).map(([k, t]) => [k, t.clone()])));
}
