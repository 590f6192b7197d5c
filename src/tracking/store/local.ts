/**
 * Reads MLflow's local file layout (specs/mlflow.md §2) for the run viewers. Anything in
 * the folder that is not a well-formed experiment or run (junk, a half-copied run, a
 * foreign tool's folder) is reported as unreadable with its reason; listing never throws
 * for it, so one bad folder cannot hide the good runs.
 */
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { BonsaiError } from '../../errors.ts';
import { listKeys, NOT_EXPERIMENTS, NOT_RUNS, parseMetricLines, readMeta, readValues, RUN_ID, statusName } from '../layout.ts';
import { latestPoint, sortHistory } from './metric-file.ts';
import type { ExperimentSummary, MetricPoint, RunStore, RunSummary, StoreListing } from './types.ts';

/** A `RunStore` over an `./mlruns` folder. */
export class LocalRunStore implements RunStore {
  readonly location: string;
  /** Parsed metric files by path, reused while size and mtime are unchanged (the ui polls). */
  private readonly cache = new Map<string, { size: number; mtimeMs: number; points: MetricPoint[] }>();
  private readonly runDirs = new Map<string, string>();

  constructor(root: string) {
    this.location = resolve(root);
  }

  async list(opts: { experiment?: string } = {}): Promise<StoreListing> {
    const entries = await fsp.readdir(this.location, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      throw new BonsaiError(`cannot read the run store ${this.location}: ${e.code ?? e.message}`, {
        hint: 'pass --store DIR (the tracking.uri folder of your recipes, ./mlruns by default)',
      });
    });
    const listing: StoreListing = { experiments: [], runs: [], unreadable: [] };
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
      if (!e.isDirectory() || NOT_EXPERIMENTS.has(e.name) || e.name.startsWith('.')) continue;
      const dir = join(this.location, e.name);
      let exp: ExperimentSummary | undefined;
      try {
        exp = await this.readExperiment(dir, e.name);
      } catch (err) {
        listing.unreadable.push({ path: e.name, reason: (err as Error).message });
        continue;
      }
      if (!exp) continue; // deleted
      if (opts.experiment !== undefined && opts.experiment !== exp.name && opts.experiment !== exp.id) continue;
      listing.experiments.push(exp);
      // An experiment folder that cannot be listed (permissions) is one more unreadable entry.
      await this.listRuns(dir, exp, listing).catch((err: Error) => listing.unreadable.push({ path: e.name, reason: err.message }));
    }
    listing.runs.sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0));
    return listing;
  }

  async histories(runId: string): Promise<Record<string, MetricPoint[]>> {
    const dir = await this.findRun(runId);
    const out: Record<string, MetricPoint[]> = {};
    for (const key of await listKeys(join(dir, 'metrics'))) out[key] = sortHistory(await this.readMetric(join(dir, 'metrics', key)));
    return out;
  }

  private async readExperiment(dir: string, id: string): Promise<ExperimentSummary | undefined> {
    const meta = await readMeta(dir);
    if (meta.lifecycle_stage === 'deleted') return undefined;
    if (typeof meta.name !== 'string') throw new Error('meta.yaml has no experiment name');
    if (String(meta.experiment_id) !== id) throw new Error(`meta.yaml says experiment_id ${JSON.stringify(meta.experiment_id)} but the folder is ${id}`);
    return { id, name: meta.name };
  }

  private async listRuns(expDir: string, exp: ExperimentSummary, listing: StoreListing): Promise<void> {
    const entries = await fsp.readdir(expDir, { withFileTypes: true });
    for (const e of entries) {
      if (!e.isDirectory() || NOT_RUNS.has(e.name) || e.name.startsWith('.')) continue;
      try {
        const run = await this.readRun(join(expDir, e.name), e.name, exp);
        if (run) listing.runs.push(run);
      } catch (err) {
        listing.unreadable.push({ path: `${exp.id}/${e.name}`, reason: (err as Error).message });
      }
    }
  }

  private async readRun(dir: string, id: string, exp: ExperimentSummary): Promise<RunSummary | undefined> {
    const meta = await readMeta(dir);
    if (meta.lifecycle_stage === 'deleted') return undefined;
    const runId = String(meta.run_id ?? meta.run_uuid ?? '');
    if (runId !== id || !RUN_ID.test(id.toLowerCase())) throw new Error(`meta.yaml says run_id ${JSON.stringify(runId)} but the folder is ${id}`);
    const tags = await readValues(join(dir, 'tags'));
    const metrics: Record<string, MetricPoint> = {};
    for (const key of await listKeys(join(dir, 'metrics'))) {
      let points: MetricPoint[];
      try {
        points = await this.readMetric(join(dir, 'metrics', key));
      } catch (err) {
        throw new Error(`metrics/${key}: ${(err as Error).message}`);
      }
      const last = latestPoint(points);
      if (last) metrics[key] = last;
    }
    this.runDirs.set(id, dir);
    return {
      id,
      experimentId: exp.id,
      experimentName: exp.name,
      name: typeof meta.run_name === 'string' && meta.run_name ? meta.run_name : (tags['mlflow.runName'] ?? ''),
      status: statusName(meta.status),
      startTime: typeof meta.start_time === 'number' ? meta.start_time : undefined,
      endTime: typeof meta.end_time === 'number' ? meta.end_time : undefined,
      params: await readValues(join(dir, 'params')),
      tags,
      metrics,
    };
  }

  private async readMetric(path: string): Promise<MetricPoint[]> {
    const st = await fsp.stat(path);
    const hit = this.cache.get(path);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.points;
    const points = parseMetricLines(await fsp.readFile(path, 'utf8'));
    this.cache.set(path, { size: st.size, mtimeMs: st.mtimeMs, points });
    return points;
  }

  /** The run's folder: from the last listing, else by looking in each experiment. */
  private async findRun(runId: string): Promise<string> {
    if (!RUN_ID.test(runId.toLowerCase())) throw new BonsaiError(`no run ${JSON.stringify(runId)} in ${this.location}`);
    const known = this.runDirs.get(runId);
    if (known) return known;
    await this.list();
    const dir = this.runDirs.get(runId);
    if (!dir) throw new BonsaiError(`no run ${runId} in ${this.location}`);
    return dir;
  }
}
