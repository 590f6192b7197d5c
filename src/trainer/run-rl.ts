import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendReport } from '../backend/index.ts';
import { BonsaiError } from '../errors.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import { flattenRecipe, resolvedRecipeYaml } from '../recipe/index.ts';
import type { Recipe } from '../recipe/schema.ts';
import { createTracker } from '../tracking/index.ts';
import { buildTransforms } from './build.ts';
import { runRl } from './rl.ts';
import type { TrainOptions, TrainSummary } from './run.ts';

/**
 * `train(recipe)` for an rl trainer: tracker run around the RL loop. The caller owns
 * `model` (built from model.init, usually the SFT base checkpoint).
 */
export async function trainRl(recipe: Recipe, model: HookedTransformer, tokenizer: Tokenizer, backend: BackendReport, opts: TrainOptions, started: number): Promise<TrainSummary> {
  if (opts.resume) throw new BonsaiError('--resume is not supported for rl trainers yet', { hint: 'start the RL run again (its checkpoints hold the weights and optimizer state)' });
  const recipeYaml = resolvedRecipeYaml(recipe);
  mkdirSync(recipe.run.out_dir, { recursive: true });
  writeFileSync(join(recipe.run.out_dir, 'recipe.resolved.yaml'), recipeYaml);
  const tracker = opts.tracker ?? createTracker(recipe.tracking.uri);
  const run = await tracker.startRun({ experiment: recipe.tracking.experiment, runName: recipe.run.name, tags: { 'bonsai.backend': backend.name, 'bonsai.trainer': 'rl' } });
  let status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FAILED';
  try {
    await tracker.logParams(flattenRecipe(recipe));
    const transforms = buildTransforms(recipe, { model, tokenizer, seqLen: model.config.nCtx });
    const result = await runRl({ ...opts, recipe, model, tokenizer, transforms, tracker, recipeYaml, runId: run.runId });
    status = result.interrupted ? 'KILLED' : 'FINISHED';
    return { ...result, backend, runId: run.runId, params: model.numParams(), unigramNats: NaN, seconds: (performance.now() - started) / 1000 };
  } finally {
    await tracker.endRun(status);
  }
}
