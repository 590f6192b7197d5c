/**
 * The HTTP reward server (`bonsai serve-reward`): a recipe's rewards, probes on the frozen
 * copy included, over OpenRLHF's /get_reward and bonsai's /v1/rewards. See docs/reward-server.md.
 */
export { RewardScorer, type SequenceScore, type ScorerStats } from './scorer.ts';
export { startRewardServer, type RewardServer, type ServeOptions } from './server.ts';
export { DynamicBatcher, type BatcherOptions as DynamicBatcherOptions } from './batcher.ts';
export { splitQuery, type ScoreText } from './texts.ts';
export { TOKEN_ENV } from './auth.ts';
