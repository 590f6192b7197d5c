/**
 * Choosing the K-FAC edit's strength without the test: walk ρ down from 1 in fixed steps,
 * editing every target at each ρ, and keep the last ρ whose loss on a held-out split rose by
 * at most a budget over the unedited model's (nats per token: a budget b lets held-out
 * perplexity grow by the factor e^b). Why: the ρ that removes the memorised items moves
 * with the seed (docs/results/memorisation.md), but how far an edit may go before it costs
 * what the model should keep is measurable on data the user holds.
 */
import { evalBatches } from '../data/batcher.ts';
import type { Example } from '../data/types.ts';
import type { CausalLM } from '../models/model.ts';
import { modelFromValues } from '../models/registry.ts';
import { heldOutLoss } from './held-out-scores.ts';
import { editWeight, type FactorEigen } from './kfac-edit.ts';
import type { KfacFactors } from './kfac-factors.ts';
import type { LinearSite } from './kfac-sites.ts';

/** The rule's settings (edit.choose_rho). */
export interface RhoRule {
  /** Largest rise of the held-out loss over the unedited model's, nats per token. */
  max_loss_increase: number;
  /** Distance between the ρ values tried, from 1 down. */
  step: number;
  /** Lowest ρ tried. */
  min_rho: number;
}

/** What the walk saw: the held-out loss at each ρ tried, and the ρ chosen. */
export interface RhoChoice {
  rho: number;
  baseLoss: number;
  tried: Array<{ rho: number; loss: number }>;
}

/**
 * The smallest ρ on the grid 1 − step, 1 − 2·step, … (down to min_rho) reached before the
 * held-out loss first rises more than the budget; 1 (no edit) when the first step already does.
 */
export function chooseRho(model: CausalLM, sites: readonly LinearSite[], factors: KfacFactors, eigen: ReadonlyMap<string, FactorEigen>, validation: readonly Example[], rule: RhoRule, log?: (line: string) => void): RhoChoice {
  const batches = evalBatches(validation, 64);
  const baseLoss = heldOutLoss(model, batches);
  const values = model.valuesSync();
  const tried: RhoChoice['tried'] = [];
  let rho = 1;
  for (let k = 1; ; k++) {
    const next = +(1 - k * rule.step).toFixed(10);
    if (next < rule.min_rho - 1e-12) break;
    const edited = new Map(values);
    for (const s of sites) edited.set(s.path, editWeight(values.get(s.path)!, factors.factors.get(s.path)!, eigen.get(s.path)!, next).weight);
    const m = modelFromValues(model.config, edited);
    const loss = heldOutLoss(m, batches);
    m.dispose();
    tried.push({ rho: next, loss });
    log?.(`choose_rho: rho ${next}: held-out loss ${loss.toFixed(5)} (unedited ${baseLoss.toFixed(5)}, budget +${rule.max_loss_increase})`);
    if (!(loss - baseLoss <= rule.max_loss_increase)) break;
    rho = next;
  }
  return { rho, baseLoss, tried };
}
