/** Learning-rate schedules: linear warmup, then constant, linear or cosine decay. */
export interface ScheduleOptions {
  kind: 'constant' | 'cosine' | 'linear';
  warmupSteps: number;
  /** The final lr as a fraction of the peak (cosine and linear). */
  minLrRatio: number;
}

/** lr at optimizer step `step` (1-based) of `total`, peaking at `peak` after warmup. */
export function lrAt(step: number, total: number, peak: number, s: ScheduleOptions): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (peak * step) / s.warmupSteps;
  if (s.kind === 'constant') return peak;
  const span = Math.max(1, total - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  const min = peak * s.minLrRatio;
  const shape = s.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return min + (peak - min) * shape;
}
