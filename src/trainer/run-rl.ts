import type { BackendReport } from '../backend/index.ts';
import { BonsaiError } from '../errors.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import { buildTransforms } from './build.ts';
import { runRl } from './rl.ts';
import type { TrainOptions, TrainSummary } from './run.ts';
import { trackedRun } from './tracked-run.ts';

/**
 * `train(recipe)` for an rl trainer: the shared tracked run (trackedRun) around the RL loop. The caller owns
 * `model` (built from model.init, usually the SFT base checkpoint).
 */
export async function trainRl(recipe: Recipe, model: HookedTransformer, tokenizer: Tokenizer, backend: BackendReport, opts: TrainOptions, started: number): Promise<TrainSummary> {
  if (opts.resume) throw new BonsaiError('--resume is not supported for rl trainers yet', { hint: 'start the RL run again (its checkpoints hold the weights and optimizer state)' });
  const { result, runId } = await trackedRun(recipe, backend, opts, { 'bonsai.trainer': 'rl' }, ({ tracker, runId, recipeYaml }) => {
    const transforms = buildTransforms(recipe, { model, tokenizer, seqLen: model.config.nCtx });
    return runRl({ ...opts, recipe, model, tokenizer, transforms, tracker, recipeYaml, runId });
  });
  return { ...result, backend, runId, params: model.numParams(), unigramNats: NaN, seconds: (performance.now() - started) / 1000 };
}
