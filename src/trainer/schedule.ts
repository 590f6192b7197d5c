/** Learning-rate schedules: linear warmup, then a decay whose shape is a schedule kind (kinds/optimizer.ts). */
import { scheduleKinds, type ScheduleKind } from './kinds/optimizer.ts';

export interface ScheduleOptions {
  kind: ScheduleKind;
  warmupSteps: number;
  /** The final lr as a fraction of the peak (cosine and linear). */
  minLrRatio: number;
}

/** lr at optimizer step `step` (1-based) of `total`, peaking at `peak` after warmup. */
export function lrAt(step: number, total: number, peak: number, s: ScheduleOptions): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (peak * step) / s.warmupSteps;
  const span = Math.max(1, total - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  return scheduleKinds[s.kind].lr(peak, peak * s.minLrRatio, progress);
}
