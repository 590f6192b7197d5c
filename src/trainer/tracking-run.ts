import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendTags, type BackendReport } from '../backend/index.ts';
import { flattenRecipe, resolvedRecipeYaml } from '../recipe/index.ts';
import type { Recipe } from '../recipe/schema.ts';
import { inheritedRunContext } from '../tracking/run-env.ts';
import { createTracker, DEFAULT_TRACKING_URI, resolveTrackingUri, RunNotResumable, sanitizeKey, truncateValue, type StartRunOptions, type Tracker } from '../tracking/index.ts';
import { latestCheckpoint } from '../models/checkpoint.ts';

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
  /** Params beyond the recipe's (e.g. which settings came from the model's generation_config.json). */
  params?: Record<string, string>;
}

/**
 * `--resume`: continues the tracking run the newest checkpoint names (same run id, status
 * RUNNING again, metrics appended; `bonsai.resumed` counts the resumes into it). When it
 * cannot (no run id in the checkpoint, a tracker without resumeRun, the run deleted or in
 * another store or experiment) a new run is opened, tagged with why, and the reason printed.
 * Params that differ from the run's (the recipe changed, e.g. more steps) are not re-logged
 * (MLflow params are immutable): they are listed in `bonsai.resumed.changed_params`, and
 * the new resolved recipe is logged under `resumes/<n>/`.
 */
async function resumeOrStart(tracker: Tracker, startOpts: StartRunOptions, outDir: string, params: Record<string, string>, onLog?: (line: string) => void) {
  const priorId = checkpointRunId(outDir);
  let why = 'the checkpoint records no tracking run id';
  if (priorId && !tracker.resumeRun) why = 'this tracker cannot continue runs';
  if (priorId && tracker.resumeRun) {
    try {
      const got = await tracker.resumeRun(priorId, { ...startOpts, tags: { ...startOpts.tags } });
      const count = got.tags['bonsai.resumed'] === 'true' ? 1 : Number(got.tags['bonsai.resumed']) || 0;
      const resumes = count + 1;
      const changed = new Map<string, string>();
      for (const [rawKey, rawValue] of Object.entries(params)) {
        const key = sanitizeKey(rawKey);
        const old = got.params[key];
        const value = truncateValue(String(rawValue));
        if (old !== undefined && old !== value) changed.set(rawKey, `${key}: ${old} -> ${value}`);
      }
      const note = [...changed.values()].join('; ');
      await tracker.setTags({ 'bonsai.resumed': String(resumes), ...(changed.size ? { 'bonsai.resumed.changed_params': truncateValue(note, 5000) } : {}) });
      onLog?.(`tracking: continuing run ${priorId} (resume ${resumes})`);
      if (changed.size) onLog?.(`tracking: the recipe changed since the run began; params keep their first values (MLflow params are immutable), changes tagged bonsai.resumed.changed_params: ${note}`);
      return { run: got, continued: true, changed: new Set(changed.keys()), resumes };
    } catch (e) {
      if (!(e instanceof RunNotResumable)) throw e;
      why = e.message;
    }
  }
  onLog?.(`tracking: ${why}; logging the resumed training to a new run`);
  const run = await tracker.startRun({
    ...startOpts,
    tags: { ...startOpts.tags, 'bonsai.resumed': '1', ...(priorId ? { 'bonsai.resumed.from_run': priorId } : {}), 'bonsai.resumed.new_run_reason': truncateValue(why, 5000) },
  });
  return { run, continued: false, changed: new Set<string>(), resumes: 1 };
}

/** The run id the newest checkpoint's state.json records, if any. */
function checkpointRunId(outDir: string): string | undefined {
  const latest = latestCheckpoint(outDir);
  if (!latest) return undefined;
  try {
    const state = JSON.parse(readFileSync(join(latest, 'state.json'), 'utf8')) as { runId?: unknown };
    return typeof state.runId === 'string' && state.runId ? state.runId : undefined;
  } catch {
    return undefined; // weights-only or unreadable: the trainer's own resume says what is wrong
  }
}

/** A tracking run opened for a training run; `close` ends it with the loop's outcome. */
export interface TrackingRun {
  tracker: Tracker;
  runId: string;
  /** The resolved recipe, as written to out_dir and logged; checkpoints carry it. */
  recipeYaml: string;
  /** Ends the run: FINISHED, KILLED (`outcome.interrupted`) or FAILED (no outcome: the loop threw). A finished run's checkpoint is logged as an artifact first. */
  close(outcome?: LoopOutcome): Promise<void>;
}

/**
 * Opens every trainer's tracking run, the same way: the resolved recipe written to out_dir,
 * a tracking run (with --resume, the one the newest checkpoint names) with bonsai's tags,
 * params and the recipe artifact. The caller runs its loop and then calls `close` in a
 * `finally`, so nothing is left RUNNING: an error is closed as FAILED and re-thrown.
 */
export async function openTrackingRun(recipe: Recipe, backend: BackendReport, opts: TrackedRunOptions, tags: Record<string, string>): Promise<TrackingRun> {
  const recipeYaml = resolvedRecipeYaml(recipe);
  const resolvedPath = join(recipe.run.out_dir, 'recipe.resolved.yaml');
  mkdirSync(recipe.run.out_dir, { recursive: true });
  writeFileSync(resolvedPath, recipeYaml);

  // The schema fills in ./mlruns when the recipe names no URI; MLFLOW_TRACKING_URI then wins, as in MLflow.
  const uri = recipe.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : recipe.tracking.uri;
  const tracker = opts.tracker ?? createTracker(uri);
  // A sweep (or any launcher) nests the run under a parent and tags it through the environment.
  const inherited = inheritedRunContext();
  const startOpts: StartRunOptions = {
    parentRunId: inherited.parentRunId,
    experiment: recipe.tracking.experiment,
    runName: recipe.run.name,
    outDir: recipe.run.out_dir, // a server tracker spools unsent events here
    tags: {
      ...backendTags(backend),
      'bonsai.version': BONSAI_VERSION,
      ...(opts.recipeFile ? { 'bonsai.recipe': opts.recipeFile } : {}),
      ...inherited.tags,
      ...tags,
    },
  };
  const params = { ...flattenRecipe(recipe), ...opts.params };
  const opened = opts.resume ? await resumeOrStart(tracker, startOpts, recipe.run.out_dir, params, opts.onLog) : undefined;
  const run = opened?.run ?? (await tracker.startRun(startOpts));
  const end = async (status: 'FINISHED' | 'FAILED' | 'KILLED') => {
    await tracker.endRun(status);
    const pending = tracker.pendingNote?.(); // events a tracking server has not taken yet
    if (pending) opts.onLog?.(pending);
  };
  try {
    if (opened?.continued) {
      // Params are immutable: only keys the run lacks are added; changed ones are in a tag.
      await tracker.logParams(Object.fromEntries(Object.entries(params).filter(([k]) => !opened.changed.has(k))));
      // The run's first recipe stays at the top; each resume's is kept beside it.
      await tracker.logArtifact(resolvedPath, `resumes/${opened.resumes}`);
    } else {
      await tracker.logParams(params);
      await tracker.logArtifact(resolvedPath);
    }
  } catch (e) {
    await end('FAILED');
    throw e;
  }
  return {
    tracker,
    runId: run.runId,
    recipeYaml,
    async close(outcome) {
      const status = outcome === undefined ? 'FAILED' : outcome.interrupted ? 'KILLED' : 'FINISHED';
      try {
        if (outcome?.checkpoint && !outcome.interrupted) await tracker.logArtifact(outcome.checkpoint, 'checkpoint');
      } finally {
        await end(status);
      }
    },
  };
}
