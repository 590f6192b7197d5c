/** Trainers: the public gradient seam, losses, optimizer, schedules, the loop driver, checkpoints. */
export { computeGradients, applyGradients, nonFiniteGrads, addGradients, type ApplyGradientsOptions, type ApplyGradientsResult } from './seam.ts';
export { runLoop, type LoopTrainer, type LoopOptions, type LoopResult, type StepOutcome, type LoopEvents } from './loop.ts';
export { AdamW, type AdamWOptions } from './optimizer.ts';
export { lrAt, type ScheduleOptions } from './schedule.ts';
export { lmLoss, type LmBatch } from './loss.ts';
export { createTrainStep, type TrainStepOptions, type StepResult } from './seam.ts';
export { evaluate, type EvalResult } from './evaluate.ts';
export { saveCheckpoint, loadCheckpoint, latestCheckpoint, type CheckpointContents, type TrainingState } from '../models/checkpoint.ts';
export { train, type TrainOptions, type TrainSummary } from './train.ts';
export { createLossStep } from './seam.ts';
export { rlStep, type RlStepOptions, type RlStepResult } from './rl.ts';
export { rollout, type PromptItem, type RolloutOptions } from './rollout.ts';
export { groupAdvantages, clippedPg, cispo, k3, tokenMean, type PolicyLoss, type PolicyLossInputs } from './rl-loss.ts';
export { tokenAdvantages, advantagesOf } from './token-advantages.ts';
export { tokenLogprobs, maskedEntropy } from '../models/logprobs.ts';
