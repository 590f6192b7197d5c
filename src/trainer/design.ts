import { evalBatches, loadDataset } from '../data/index.ts';
import { attributionFilter, attributionScores, selectTopPercent } from '../gradients/attribution.ts';
import { Freezer } from '../gradients/freeze.ts';
import { selectGlob, selectHeads, selectNeurons, unionSelections, type Selection } from '../gradients/select.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import { BonsaiError } from '../errors.ts';
import { lmLoss } from './loss.ts';

/**
 * The recipe's `freeze` list as one Freezer over the model's current weights, or
 * undefined when nothing is frozen. Each selector must select something: a selector that
 * matches nothing is an error naming it, never a silent no-op.
 */
export function buildFreezer(recipe: Recipe, model: HookedTransformer, tokenizer: Tokenizer, seqLen: number): Freezer | undefined {
  if (!recipe.freeze.length) return undefined;
  const parts: Selection[] = recipe.freeze.map((s, i) => {
    const where = `freeze[${i}]`;
    if (typeof s === 'string') return selectGlob(model.params, s, where);
    if ('heads' in s) return selectHeads(model.params, s.heads, model.config.nHeads, `${where}.heads`);
    if ('neurons' in s) return selectNeurons(model.params, s.neurons, `${where}.neurons`);
    const a = s.attribution;
    const examples = loadDataset(a.data, tokenizer, seqLen).examples;
    if (!examples.length) throw new BonsaiError(`${where}.attribution.data: ${a.data.path} holds no examples`);
    const batches = evalBatches(examples, recipe.trainer.batch_size, a.batches);
    const filter = attributionFilter(a.params);
    if (![...model.params].some(([path, p]) => filter(path, p))) {
      throw new BonsaiError(`${where}.attribution.params: "${a.params}" matches no parameter`);
    }
    return selectTopPercent(attributionScores(model.params, batches, (b) => lmLoss(model, b), filter), a.top_percent);
  });
  return new Freezer(model.params, unionSelections(parts));
}
