/**
 * What the run viewers (`bonsai runs`, `bonsai ui`) read: a store of finished and running
 * runs. The local MLflow folder is one implementation; a server-backed one (MLflow REST
 * `runs/search`, `metrics/get-history`) fits the same interface.
 */

/** MLflow's RunStatus names; UNKNOWN for a status number MLflow does not define. */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED' | 'UNKNOWN';

/** One logged metric value. `value` may be NaN or ±Infinity, as MLflow allows. */
export interface MetricPoint {
  step: number;
  /** Wall time in ms since the epoch. */
  timestamp: number;
  value: number;
}

/** A run as listed: everything but the metric histories. */
export interface RunSummary {
  id: string;
  experimentId: string;
  experimentName: string;
  /** The run name (`run_name` / `mlflow.runName`); '' when it has none. */
  name: string;
  status: RunStatus;
  /** ms since the epoch. */
  startTime?: number;
  /** ms since the epoch; undefined while the run is running. */
  endTime?: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Each metric's latest value: the max by (step, timestamp, value), as MLflow picks it. */
  metrics: Record<string, MetricPoint>;
}

/** An experiment as listed. */
export interface ExperimentSummary {
  id: string;
  name: string;
}

/** A folder (or server record) that could not be read, and why; listed, never thrown. */
export interface Unreadable {
  /** Where it is, relative to the store (e.g. `3/ab12…`). */
  path: string;
  reason: string;
}

/** What `RunStore.list` answers. */
export interface StoreListing {
  experiments: ExperimentSummary[];
  /** Newest first. */
  runs: RunSummary[];
  unreadable: Unreadable[];
}

/** A read-only view of tracked runs. */
export interface RunStore {
  /** Where the runs come from, for messages (a folder or a URL). */
  readonly location: string;
  /** Experiments, runs and unreadable entries; `experiment` filters by name or id. */
  list(opts?: { experiment?: string }): Promise<StoreListing>;
  /** Every value of every metric of a run, each history sorted by step then time. */
  histories(runId: string): Promise<Record<string, MetricPoint[]>>;
}
