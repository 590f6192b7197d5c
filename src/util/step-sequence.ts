/**
 * The step-sequencing core of the loop driver, free of any model: the step counter, the
 * logging and evaluation cadence, stop signals (an evaluation's early stop, SIGINT,
 * `--stop-after`) and the non-finite policy. `runLoop` (SFT, RL) wraps it with the learning
 * rate, checkpoints, resume and freezing; `fitProbeLoop` (probe training, one full-batch
 * epoch per step) uses it as it is.
 */
import { BonsaiError } from '../errors.ts';
import type { Tracker } from '../tracking/index.ts';

/** What one step did. */
export interface StepOutcome {
  loss: number;
  /** Logged on logging steps, with `stats` (runLoop adds `train/lr`). */
  metrics: Record<string, number>;
  /** The gradient transforms' `gradients/<name>/<key>` (asked for on logging steps only). */
  stats: Record<string, number>;
  /** Set when the step's update was skipped: the tensors whose gradients were NaN or infinite. */
  nonFinite?: string[];
  /** For onStep (the progress bar): tokens per second, as the trainer counts them. */
  tokensPerSec: number;
  /** A line printed on every log_every-th step. */
  line?: string;
}

export interface EvalOutcome<E> {
  metrics: Record<string, number>;
  line: string;
  value: E;
  /** Ends the run after this evaluation (early stopping); the driver honours it like a finished run. */
  stop?: boolean;
}

/** Steps to run, logging, evaluation and the non-finite limit. */
export interface StepPlan {
  steps: number;
  logEvery: number;
  /** 0: evaluate only at the end. */
  evalEvery: number;
  maxNonfiniteSteps: number;
}

export interface SequenceOptions<E> {
  plan: StepPlan;
  /** Steps already done (a resumed run). */
  from: number;
  tracker: Pick<Tracker, 'logMetrics'>;
  onLog?(line: string): void;
  /** Runs step `step` (1-based); `logged`: its metrics and stats will be logged. */
  run(step: number, logged: boolean): StepOutcome | Promise<StepOutcome>;
  /** Called on every applied step before it is logged (runLoop: the progress bar). */
  onApplied?(step: number, r: StepOutcome): void;
  evaluate?(): EvalOutcome<E> | undefined | Promise<EvalOutcome<E> | undefined>;
  /** After each applied step and its evaluation: true stops the run here (runLoop saves its checkpoints here). */
  afterStep?(step: number): boolean;
  /** The hint of the error thrown when non-finite steps do not recover. */
  nonFiniteHint: string;
}

export interface SequenceResult<E> {
  step: number;
  /** The last applied step's loss (NaN if none). */
  lastLoss: number;
  lastEval?: E;
  /** Why the run ended before `plan.steps`: `afterStep` asked (interrupt, --stop-after) or an evaluation did (early stopping). */
  stopped?: 'interrupted' | 'early';
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs steps `from + 1 … plan.steps`. Async only to yield to the event loop once per step,
 * so signal handlers (SIGINT) and the tracker's background flush get to run between steps.
 */
export async function runSteps<E>(o: SequenceOptions<E>): Promise<SequenceResult<E>> {
  const { plan, tracker } = o;
  let lastLoss = NaN;
  let lastEval: E | undefined;
  let evalStop = false;
  const runEval = async (step: number): Promise<E | undefined> => {
    const r = await o.evaluate?.();
    if (!r) return undefined;
    tracker.logMetrics(step, r.metrics);
    o.onLog?.(`step ${step}: ${r.line}`);
    evalStop = r.stop === true;
    return r.value;
  };
  let step = o.from;
  let badInARow = 0;
  let skipped = 0;
  while (step < plan.steps) {
    step += 1;
    const logged = step % plan.logEvery === 0 || step === plan.steps;
    const r = await o.run(step, logged);
    if (r.nonFinite) {
      // Skip the update, count it, and stop once skipping is clearly not recovering.
      badInARow += 1;
      skipped += 1;
      tracker.logMetrics(step, { 'train/skipped_steps': skipped });
      o.onLog?.(`step ${step}: skipped, non-finite gradients in ${r.nonFinite.join(', ')}`);
      if (badInARow >= plan.maxNonfiniteSteps || step === plan.steps) {
        throw new BonsaiError(
          `step ${step}: the loss is ${r.loss}; ${badInARow} step(s) in a row had NaN or infinite gradients (${r.nonFinite.join(', ')})`,
          { hint: o.nonFiniteHint },
        );
      }
      await yieldToEventLoop();
      continue;
    }
    badInARow = 0;
    lastLoss = r.loss;
    o.onApplied?.(step, r);
    if (logged) tracker.logMetrics(step, { ...r.metrics, ...r.stats });
    if (r.line && step % plan.logEvery === 0) o.onLog?.(`step ${step}: ${r.line}`);
    if (plan.evalEvery > 0 && step % plan.evalEvery === 0 && step < plan.steps) lastEval = await runEval(step);
    await yieldToEventLoop();
    const stopping = o.afterStep?.(step) === true;
    if (evalStop) return { step, lastLoss, lastEval, stopped: 'early' };
    if (stopping && step < plan.steps) return { step, lastLoss, lastEval, stopped: 'interrupted' };
  }
  lastEval = (await runEval(step)) ?? lastEval;
  return { step, lastLoss, lastEval };
}
