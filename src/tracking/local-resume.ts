/**
 * Finding a run to continue in MLflow's file store (specs/mlflow.md §2): `--resume` hands
 * the run id its checkpoint recorded, and the run is continued only when it is still there,
 * active, and in the experiment the recipe logs to. Anything else is RunNotResumable,
 * with the reason the trainer prints before opening a new run.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readExperimentMeta, readMeta, readValues, RUN_ID } from './layout.ts';
import { RunNotResumable } from './types.ts';

/** A run found in the store, with what it already holds. */
export interface LocalRunFound {
  experimentId: string;
  dir: string;
  meta: Record<string, unknown>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/**
 * The run `runId` of the active experiment named `experiment` under `root`. Refused when
 * the id is malformed or unknown, the run (or its experiment) was deleted, or it lives in
 * another experiment: a resumed curve must not land where the user does not look for it.
 */
export async function findResumableRun(root: string, runId: string, experiment: string): Promise<LocalRunFound> {
  // Never let a checkpoint's text reach the file system as a path unless it is an id.
  if (!RUN_ID.test(runId)) throw new RunNotResumable(runId, 'it is not an MLflow run id');
  const where = await locate(root, runId);
  if (!where) throw new RunNotResumable(runId, `it is not in the store ${root} (deleted for good, or logged to another tracking uri)`);
  if (where.trashed) throw new RunNotResumable(runId, `its experiment ${where.experimentId} was deleted`);
  let meta: Record<string, unknown>;
  try {
    meta = await readMeta(where.dir);
  } catch (e) {
    throw new RunNotResumable(runId, `${join(where.dir, 'meta.yaml')}: ${(e as Error).message}`);
  }
  if ((meta.lifecycle_stage ?? 'active') !== 'active') throw new RunNotResumable(runId, 'it was deleted');
  const exp = await readExperimentMeta(root, where.experimentId);
  if ((exp?.lifecycle_stage ?? 'active') !== 'active') throw new RunNotResumable(runId, `its experiment ${where.experimentId} was deleted`);
  if (exp?.name !== experiment) {
    throw new RunNotResumable(runId, `it belongs to experiment "${String(exp?.name ?? where.experimentId)}", the recipe logs to "${experiment}"`);
  }
  return {
    experimentId: where.experimentId,
    dir: where.dir,
    meta,
    params: await readValues(join(where.dir, 'params')),
    tags: await readValues(join(where.dir, 'tags')),
  };
}

/** The run's folder: `<root>/<exp>/<id>`, or under `.trash` when its experiment was deleted. */
async function locate(root: string, runId: string): Promise<{ experimentId: string; dir: string; trashed: boolean } | undefined> {
  for (const [base, trashed] of [[root, false], [join(root, '.trash'), true]] as const) {
    const entries = await fsp.readdir(base, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dir = join(base, e.name, runId);
      if (await fsp.stat(join(dir, 'meta.yaml')).then(() => true, () => false)) return { experimentId: e.name, dir, trashed };
    }
  }
  return undefined;
}
