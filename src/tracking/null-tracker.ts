import { randomUUID } from 'node:crypto';
import type { ResumedRun, StartedRun, StartRunOptions, Tracker } from './types.ts';

/**
 * The tracker for `tracking.uri: none`: every method exists and does nothing, so the
 * trainer never checks whether tracking is on (nanochat's `DummyWandb`).
 */
export class NullTracker implements Tracker {
  async startRun(_opts: StartRunOptions): Promise<StartedRun> {
    // A real id keeps log lines and checkpoint metadata uniform across backends.
    return { runId: randomUUID().replace(/-/g, ''), experimentId: '' };
  }
  /** Nothing is stored, so nothing can be missing: the same id goes on. */
  async resumeRun(runId: string, _opts: StartRunOptions): Promise<ResumedRun> {
    return { runId, experimentId: '', params: {}, tags: {} };
  }
  async logParams(_params: Record<string, string>): Promise<void> {}
  logMetrics(_step: number, _record: Record<string, number>, _timestampMs?: number): void {}
  async setTags(_tags: Record<string, string>): Promise<void> {}
  async logArtifact(_localPath: string, _artifactPath?: string): Promise<void> {}
  async flush(): Promise<void> {}
  async endRun(_status: 'FINISHED' | 'FAILED' | 'KILLED'): Promise<void> {}
}
