/** How a run ended; MLflow's RunStatus names. */
export type RunEndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/** What `startRun` asks for. */
export interface StartRunOptions {
  /** Experiment name; created if missing. */
  experiment: string;
  /** Shown in the tracking UI (`mlflow.runName`). */
  runName: string;
  /** Extra run tags, applied after bonsai's defaults so they may override them. */
  tags?: Record<string, string>;
  /** Parent run id for nested runs (sweeps): the `mlflow.parentRunId` tag. */
  parentRunId?: string;
  /** Run description: the `mlflow.note.content` tag. */
  description?: string;
  /** The run's own folder (out_dir): a server tracker keeps its spool of unsent events there. */
  outDir?: string;
}

/** What `startRun` answers. */
export interface StartedRun {
  runId: string;
  experimentId: string;
  /** The run's folder, for local stores. */
  runDir?: string;
}

/** What `resumeRun` answers: the run, reopened, and what it already holds. */
export interface ResumedRun extends StartedRun {
  /** Params already logged to the run (immutable: a resume may add keys, never change one). */
  params: Record<string, string>;
  /** Tags the run held before this resume. */
  tags: Record<string, string>;
}

/**
 * `resumeRun` cannot continue the run it was given (deleted, unknown to this store, in
 * another experiment): the caller opens a new run instead and prints `reason`.
 */
export class RunNotResumable extends Error {
  constructor(readonly runId: string, readonly reason: string) {
    super(`cannot continue tracking run ${runId}: ${reason}`);
    this.name = 'RunNotResumable';
  }
}

/**
 * Where a run's params, metrics, tags and artifacts go. Every backend (MLflow file store,
 * an MLflow server, or nothing) has these methods, so the trainer never branches on
 * which one it has.
 */
export interface Tracker {
  /** Opens a run in the named experiment (created if missing). */
  startRun(opts: StartRunOptions): Promise<StartedRun>;
  /**
   * Reopens an ended run of the named experiment, so `--resume` continues one curve: status
   * back to RUNNING, metrics appended, params kept (immutable). `opts.tags` are set on it.
   * Throws RunNotResumable when the run is gone or belongs elsewhere; other errors (refused
   * credentials) as `startRun` does. Optional: without it, a resume opens a new run.
   */
  resumeRun?(runId: string, opts: StartRunOptions): Promise<ResumedRun>;
  /** Params are immutable: the same key again with another value is an error. */
  logParams(params: Record<string, string>): Promise<void>;
  /**
   * Buffers one step's metrics. Cheap and never throws: it sits on the training hot path.
   * Written by `flush()`, by a background timer, and by `endRun`.
   */
  logMetrics(step: number, record: Record<string, number>, timestampMs?: number): void;
  /** Tags overwrite. */
  setTags(tags: Record<string, string>): Promise<void>;
  /** Copies a file or a directory into the run's artifacts. */
  logArtifact(localPath: string, artifactPath?: string): Promise<void>;
  /** Writes every buffered metric. */
  flush(): Promise<void>;
  /** Flushes and marks the run ended. */
  endRun(status: RunEndStatus): Promise<void>;
  /**
   * After `endRun`: a line for the user when events could not be delivered (where they are
   * and how to send them), else undefined. Only backends that can fall behind have it.
   */
  pendingNote?(): string | undefined;
}
