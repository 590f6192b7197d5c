import { writeFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.ts';
import { markerText, spuriousRecords } from '../../src/data/tasks/index.ts';
import { collectActivations, meanDifference } from '../../src/gradients/directions.ts';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { textDataset } from '../../src/data/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { accuracy, examples, pct, recipeFor, trainAndLoad, writeJsonl } from './common.ts';

const DIR = 'data/tasks/spurious';

/** Writes the task's data (fixed seeds, so the files are the same on every machine). */
export function writeSpuriousData(): void {
  writeJsonl(`${DIR}/train.jsonl`, spuriousRecords(1, 2000, 'agree'));
  writeJsonl(`${DIR}/eval_id.jsonl`, spuriousRecords(2, 400, 'agree'));
  writeJsonl(`${DIR}/eval_ood.jsonl`, spuriousRecords(3, 400, 'reverse'));
  writeFileSync(`${DIR}/x.txt`, markerText('x'));
  writeFileSync(`${DIR}/y.txt`, markerText('y'));
}

/**
 * The marker direction for the model a seed initialises: contrastive mean difference of
 * hook_embed activations on "xxxx…" vs "yyyy…" (what `bonsai directions --method mean-diff`
 * computes), written where the ablate recipe can read it.
 */
export async function markerDirection(seed: number, path: string): Promise<Record<string, number>> {
  const recipe = recipeFor('recipes/spurious-plain.yaml', seed);
  await initBackend(recipe.backend);
  const tok = createTokenizer('byte');
  const model = buildModel(recipe, tok);
  try {
    const acts = (m: 'x' | 'y') => collectActivations(model, textDataset(markerText(m), `${m}.txt`, tok, 8).examples, 'hook_embed');
    const r = meanDifference(acts('x'), acts('y'));
    saveDirections(path, { format: 'bonsai-directions/1', kind: 'activation', hook: 'hook_embed', width: model.config.dModel, vectors: [r.vector], stats: { method: 'mean-diff', ...r.stats } });
    return r.stats;
  } finally {
    model.dispose();
  }
}

/** Plain vs ablate over seeds: in-distribution and out-of-distribution accuracy. */
export async function runSpurious(seeds: number[]): Promise<string[]> {
  writeSpuriousData();
  const id = examples(`${DIR}/eval_id.jsonl`, 8);
  const ood = examples(`${DIR}/eval_ood.jsonl`, 8);
  const res: Record<string, { id: number[]; ood: number[] }> = { plain: { id: [], ood: [] }, ablate: { id: [], ood: [] } };
  for (const seed of seeds) {
    const dirFile = `${DIR}/marker-seed${seed}.json`;
    await markerDirection(seed, dirFile);
    for (const arm of ['plain', 'ablate'] as const) {
      const extra = arm === 'ablate' ? [`interventions.0.directions=${dirFile}`] : [];
      const model = await trainAndLoad(recipeFor(`recipes/spurious-${arm}.yaml`, seed, extra));
      res[arm]!.id.push(accuracy(model, id));
      res[arm]!.ood.push(accuracy(model, ood));
      model.dispose();
      console.error(`spurious seed ${seed} ${arm}: id ${res[arm]!.id.at(-1)} ood ${res[arm]!.ood.at(-1)}`);
    }
  }
  return [
    '| spurious correlation | in-distribution acc % (worst seed) | out-of-distribution acc % (worst seed) |',
    '| --- | --- | --- |',
    ...Object.entries(res).map(([arm, r]) => `| ${arm} | ${pct(r.id, seeds)} | ${pct(r.ood, seeds)} |`),
  ];
}
