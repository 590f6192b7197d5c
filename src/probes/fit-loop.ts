/**
 * Probe training on the loop driver's step-sequencing core (util/step-sequence.ts): one step is
 * one full-batch epoch, every epoch is logged (`probes/<name>/train_loss`) and evaluated
 * (`probes/<name>/val_loss`), early stopping is the evaluation's stop signal, SIGINT ends
 * the fit after the current epoch with the best weights so far. There is no learning-rate
 * schedule, checkpoint or resume: a probe fit is seconds long and deterministic per seed.
 */
import type { Tracker } from '../tracking/index.ts';
import { NullTracker } from '../tracking/null-tracker.ts';
import { runSteps } from '../util/step-sequence.ts';
import type { Features } from './capture.ts';
import { nonFiniteHint, startProbeFit, type FitOptions } from './fit.ts';
import type { Probe } from './probe.ts';

export interface FitLoopOptions extends FitOptions {
  /** Receives the per-epoch losses; none by default. */
  tracker?: Pick<Tracker, 'logMetrics'>;
  onLog?(line: string): void;
  /** Set to true (e.g. by SIGINT) to end the fit after the current epoch. */
  interrupt?: { requested: boolean };
}

export interface FitLoopResult {
  probe: Probe;
  /** Epochs run. */
  epochs: number;
  /** Why the fit ended before max_epochs: patience ran out, or an interrupt. */
  stopped?: 'early' | 'interrupted';
}

/**
 * Trains a probe on feature rows through the loop driver; the result is bit-identical to
 * `fitProbe` (the same epochs, the same early stopping). Metrics are measured on the
 * held-out rows.
 */
export async function fitProbeLoop(f: Features, o: FitLoopOptions): Promise<FitLoopResult> {
  const fit = startProbeFit(f, o);
  const tracker = o.tracker ?? new NullTracker();
  const key = (m: string) => `probes/${o.name}/${m}`;
  try {
    const r = await runSteps<number>({
      // Full-batch and deterministic: a skipped epoch would repeat identically, so one stops the fit.
      plan: { steps: fit.maxEpochs, logEvery: 1, evalEvery: 1, maxNonfiniteSteps: 1 },
      from: 0,
      tracker,
      onLog: o.onLog && ((line) => o.onLog!(`probe "${o.name}" ${line.replace(/^step/, 'epoch')}`)),
      nonFiniteHint: `probe "${o.name}": ${nonFiniteHint}`,
      run(_epoch) {
        const e = fit.epoch();
        return { loss: e.loss, nonFinite: e.nonFinite, metrics: { [key('train_loss')]: e.loss }, stats: {}, tokensPerSec: 0 };
      },
      evaluate() {
        const v = fit.validate();
        return { metrics: { [key('val_loss')]: v.loss }, line: `val_loss ${v.loss.toFixed(4)}`, value: v.loss, stop: v.stop };
      },
      afterStep: () => o.interrupt?.requested === true,
    });
    return { probe: fit.finish(), epochs: r.step, stopped: r.stopped };
  } finally {
    fit.dispose();
  }
}
