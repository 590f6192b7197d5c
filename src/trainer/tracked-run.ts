import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendReport } from '../backend/index.ts';
import { flattenRecipe, resolvedRecipeYaml } from '../recipe/index.ts';
import type { Recipe } from '../recipe/schema.ts';
import { inheritedRunContext } from '../distributed/sweep/child-env.ts';
import { createTracker, DEFAULT_TRACKING_URI, resolveTrackingUri, type Tracker } from '../tracking/index.ts';

export const BONSAI_VERSION = '0.1.0';

/** What a training loop hands back to the tracked run that wraps it. */
export interface LoopOutcome {
  interrupted: boolean;
  checkpoint?: string;
}

export interface TrackedRunOptions {
  /** Path of the recipe file, logged as a tag. */
  recipeFile?: string;
  resume?: boolean;
  /** Use this tracker instead of the one the recipe names (tests). */
  tracker?: Tracker;
  /** For the pending-events line a server tracker may leave. */
  onLog?(line: string): void;
}

/**
 * Every trainer's run, the same way: the resolved recipe written to out_dir, a tracking
 * run with bonsai's tags, params and the recipe artifact, the loop, the final checkpoint
 * as an artifact, and the run closed FINISHED, KILLED (interrupted) or FAILED (an error,
 * re-thrown after the run is closed, so nothing is left RUNNING).
 */
export async function trackedRun<R extends LoopOutcome>(
  recipe: Recipe,
  backend: BackendReport,
  opts: TrackedRunOptions,
  tags: Record<string, string>,
  loop: (ctx: { tracker: Tracker; runId: string; recipeYaml: string }) => Promise<R>,
): Promise<{ result: R; runId: string }> {
  const recipeYaml = resolvedRecipeYaml(recipe);
  const resolvedPath = join(recipe.run.out_dir, 'recipe.resolved.yaml');
  mkdirSync(recipe.run.out_dir, { recursive: true });
  writeFileSync(resolvedPath, recipeYaml);

  // The schema fills in ./mlruns when the recipe names no URI; MLFLOW_TRACKING_URI then wins, as in MLflow.
  const uri = recipe.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : recipe.tracking.uri;
  const tracker = opts.tracker ?? createTracker(uri);
  // A sweep (or any launcher) nests the run under a parent and tags it through the environment.
  const inherited = inheritedRunContext();
  const run = await tracker.startRun({
    parentRunId: inherited.parentRunId,
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
      ...inherited.tags,
      ...tags,
    },
  });
  let status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FAILED';
  try {
    await tracker.logParams(flattenRecipe(recipe));
    await tracker.logArtifact(resolvedPath);
    const result = await loop({ tracker, runId: run.runId, recipeYaml });
    status = result.interrupted ? 'KILLED' : 'FINISHED';
    if (result.checkpoint && !result.interrupted) await tracker.logArtifact(result.checkpoint, 'checkpoint');
    return { result, runId: run.runId };
  } finally {
    await tracker.endRun(status);
    const pending = tracker.pendingNote?.(); // events a tracking server has not taken yet
    if (pending) opts.onLog?.(pending);
  }
}
