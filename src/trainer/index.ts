/** Trainers: the train-step seam, losses, optimizer, schedules, the SFT loop, checkpoints. */
export { AdamW, type AdamWOptions } from './optimizer.ts';
export { lrAt, type ScheduleOptions } from './schedule.ts';
export { lmLoss, countTargets, type LmBatch } from './loss.ts';
export { createTrainStep, type TrainStepOptions, type StepResult } from './step.ts';
