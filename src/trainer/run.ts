import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendReport } from '../backend/index.ts';
import { createTokenizer } from '../models/tokenizer.ts';
import { flattenRecipe, resolvedRecipeYaml } from '../recipe/index.ts';
import type { Recipe } from '../recipe/schema.ts';
import { createTracker, DEFAULT_TRACKING_URI, resolveTrackingUri, type Tracker } from '../tracking/index.ts';
import { buildData, buildModel, buildTransforms } from './build.ts';
import { buildFreezer, buildInterventions } from './design.ts';
import { runSft, type LoopEvents, type SftResult } from './sft.ts';
import { trainRl } from './run-rl.ts';

export const BONSAI_VERSION = '0.1.0';

export interface TrainOptions extends LoopEvents {
  /** Path of the recipe file, logged as a tag. */
  recipeFile?: string;
  resume?: boolean;
  stopAfter?: number;
  interrupt?: { requested: boolean };
  /** Use this tracker instead of the one the recipe names (tests). */
  tracker?: Tracker;
}

export interface TrainSummary extends SftResult {
  backend: BackendReport;
  runId: string;
  params: number;
  /** Unigram entropy (nats/token) of the training targets: the bar eval loss must clear. */
  unigramNats: number;
  seconds: number;
}

/**
 * Runs a whole recipe: backend → tokenizer → model → data → tracker → training loop.
 * The run is logged to MLflow's layout; its status is FINISHED, KILLED (interrupted) or
 * FAILED (an error, which is re-thrown after the run is closed, so nothing is left RUNNING).
 */
export async function train(recipe: Recipe, opts: TrainOptions = {}): Promise<TrainSummary> {
  const started = performance.now();
  const log = opts.onLog ?? (() => {});
  const backend = await initBackend(recipe.backend);
  log(describeBackend(backend));
  const tokenizer = createTokenizer(recipe.model.tokenizer);
  const model = buildModel(recipe, tokenizer);
  try {
    if (recipe.trainer.kind === 'rl') return await trainRl(recipe, model, tokenizer, backend, opts, started);
    const data = buildData(recipe, tokenizer, model.config.nCtx);
    log(
      `model: ${model.numParams().toLocaleString('en-US')} parameters; data: ${data.train.length} train / ${data.eval.length} eval sequences of ${data.seqLen} tokens; ` +
        `unigram entropy ${data.unigram.nats.toFixed(3)} nats/token (${data.unigram.bits.toFixed(3)} bits)`,
    );
    const recipeYaml = resolvedRecipeYaml(recipe);
    mkdirSync(recipe.run.out_dir, { recursive: true });
    writeFileSync(join(recipe.run.out_dir, 'recipe.resolved.yaml'), recipeYaml);

    // The schema fills in ./mlruns when the recipe names no URI; MLFLOW_TRACKING_URI then wins, as in MLflow.
    const tracker = opts.tracker ?? createTracker(recipe.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : recipe.tracking.uri);
    const run = await tracker.startRun({
      experiment: recipe.tracking.experiment,
      runName: recipe.run.name,
      outDir: recipe.run.out_dir, // a server tracker spools unsent events here
      tags: {
        'bonsai.backend': backend.name,
        // Why each earlier candidate was passed over, e.g. "tensorflow-gpu: not installed; wasm: ok".
        'bonsai.backend.tried': backend.tried.map((t) => `${t.name}: ${t.ok ? 'ok' : t.reason}`).join('; '),
        'bonsai.version': BONSAI_VERSION,
        ...(opts.recipeFile ? { 'bonsai.recipe': opts.recipeFile } : {}),
        ...(opts.resume ? { 'bonsai.resumed': 'true' } : {}),
      },
    });
    let status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FAILED';
    try {
      await tracker.logParams(flattenRecipe(recipe));
      await tracker.logArtifact(join(recipe.run.out_dir, 'recipe.resolved.yaml'));
      tracker.logMetrics(0, { 'data/unigram_entropy_nats': data.unigram.nats });
      const makeFreezer = () => buildFreezer(recipe, model, tokenizer, data.seqLen);
      // Interventions go to training passes only; evaluation and sampling inside runSft run without them.
      const interventions = buildInterventions(recipe, model);
      const transforms = buildTransforms(recipe, { model, tokenizer, seqLen: data.seqLen });
      const result = await runSft({ ...opts, recipe, model, tokenizer, data, transforms, makeFreezer, forward: interventions.forward, tracker, recipeYaml, runId: run.runId }).finally(() => interventions.dispose());
      status = result.interrupted ? 'KILLED' : 'FINISHED';
      if (result.checkpoint && !result.interrupted) await tracker.logArtifact(result.checkpoint, 'checkpoint');
      return {
        ...result,
        backend,
        runId: run.runId,
        params: model.numParams(),
        unigramNats: data.unigram.nats,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      await tracker.endRun(status);
      const pending = tracker.pendingNote?.(); // events a tracking server has not taken yet
      if (pending) log(pending);
    }
  } finally {
    model.dispose();
  }
}
