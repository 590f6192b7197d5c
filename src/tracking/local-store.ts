/**
 * Creating experiments in MLflow's file store (specs/mlflow.md §2; the format itself is in
 * layout.ts), under the lock that keeps two runs starting at once from creating one
 * experiment name twice.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { fileUri, NOT_EXPERIMENTS, readExperimentMeta, writeMeta } from './layout.ts';

/** MLflow's Default experiment id and name. */
const DEFAULT_EXPERIMENT = { id: '0', name: 'Default' } as const;
const LOCK_NAME = '.bonsai-experiments.lock';
const LOCK_STALE_MS = 10_000;

/** Creates the store root, `.trash`, and the Default experiment, as `FileStore()` does. */
export async function ensureStore(root: string, now: () => number): Promise<void> {
  await fsp.mkdir(join(root, '.trash'), { recursive: true });
  await withLock(root, async () => {
    // A Default experiment the user deleted (moved to .trash) must stay deleted.
    if ((await exists(join(root, '0'))) || (await exists(join(root, '.trash', '0')))) return;
    await createExperimentDir(root, DEFAULT_EXPERIMENT.id, DEFAULT_EXPERIMENT.name, now());
  });
}

/**
 * The id of the active experiment named `name`, creating it (next free integer id) if
 * missing. Creation happens under a lock file and re-scans inside it, so two runs starting
 * at once end up in one experiment.
 */
export async function getOrCreateExperiment(root: string, name: string, now: () => number): Promise<string> {
  const found = await findExperiment(root, name);
  if (found !== undefined) return found;
  return withLock(root, async () => {
    const again = await findExperiment(root, name);
    if (again !== undefined) return again;
    const ids = (await listExperimentIds(root)).map(Number).filter(Number.isInteger);
    for (let id = Math.max(0, ...ids) + 1; ; id++) {
      // mkdir is atomic: if a non-bonsai writer took this id meanwhile, try the next.
      if (await createExperimentDir(root, String(id), name, now())) return String(id);
    }
  });
}

async function findExperiment(root: string, name: string): Promise<string | undefined> {
  for (const id of await listExperimentIds(root)) {
    const meta = await readExperimentMeta(root, id);
    if (meta?.name === name && (meta.lifecycle_stage ?? 'active') === 'active') return id;
  }
  return undefined;
}

async function listExperimentIds(root: string): Promise<string[]> {
  const entries = await fsp.readdir(root, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !NOT_EXPERIMENTS.has(e.name)).map((e) => e.name);
}

async function createExperimentDir(root: string, id: string, name: string, time: number): Promise<boolean> {
  try {
    await fsp.mkdir(join(root, id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  const meta = {
    artifact_location: fileUri(join(root, id)),
    creation_time: time,
    experiment_id: id,
    last_update_time: time,
    lifecycle_stage: 'active',
    name,
  };
  await writeMeta(join(root, id), meta);
  return true;
}

/**
 * Runs `fn` holding `<root>/.bonsai-experiments.lock` (a file: MLflow lists only folders
 * as experiments). A lock older than 10 s is left over from a crash and is taken over.
 */
async function withLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(root, LOCK_NAME);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await (await fsp.open(lock, 'wx')).close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await fsp.stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) await fsp.rm(lock, { force: true });
      else if (Date.now() > deadline) {
        throw new BonsaiError(`timed out waiting for the experiment lock ${lock}`, {
          hint: 'if no other bonsai run is starting, delete that file',
        });
      } else await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(() => true, () => false);
}
