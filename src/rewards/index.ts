/** Rewards: named, weighted components, scored on one frozen pass per rollout batch. */
export type { Reward, RewardContext, RewardScores, RolloutBatch, FrozenPass } from './types.ts';
export { exactMatchReward, regexReward, lengthReward } from './basic.ts';
export { probeReward, type Aggregate, type ProbeRewardOptions } from './probe.ts';
export { moduleReward, type UserRewardFn } from './module.ts';
export { scoreRewards, meanStd, type ScoredRewards } from './compose.ts';
export { checkScores, tokenStats, type CheckedScores } from './scores.ts';
export { frozenPass, rewardHooks } from './frozen.ts';
