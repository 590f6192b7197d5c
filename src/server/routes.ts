/**
 * The endpoints: what each reads and answers. Scoring goes through the batcher, so
 * sequences of concurrent requests share frozen passes.
 */
import { meanStd } from '../rewards/compose.ts';
import { tokenStats } from '../rewards/scores.ts';
import type { DynamicBatcher } from './batcher.ts';
import type { RewardScorer, SequenceScore } from './scorer.ts';
import { encodeText, seqLength, type EncodedText, type ScoreText } from './texts.ts';
import { HttpError, openRlhfRequest, rewardsRequest } from './validate.ts';

/** A sequence in the batcher's queue: its tokens, and whether its per-token scores are wanted. */
export interface QueuedSequence {
  text: EncodedText;
  tokens: boolean;
}

export interface Limits {
  /** Largest request body, bytes (413 above). */
  maxBodyBytes: number;
  /** Most sequences in one request (422 above). */
  maxBatch: number;
  /** Most tokens in one sequence, prompt + completion; at most the model's context (422 above). */
  maxSeqLen: number;
  /** A request not answered within this is answered 503 (408 while its body is still arriving). */
  timeoutMs: number;
}

export interface RouteContext {
  scorer: RewardScorer;
  batcher: DynamicBatcher<QueuedSequence, SequenceScore>;
  limits: Limits;
  batching: { batchSize: number; maxWaitMs: number };
  inFlight: () => number;
  draining: () => boolean;
}

export interface Route {
  method: 'GET' | 'POST';
  /** False only for /health, which load balancers probe without credentials and which tells nothing about the model. */
  auth: boolean;
  handle(ctx: RouteContext, body: unknown, signal: AbortSignal): Promise<unknown> | unknown;
}

/** Tokenizes each text, refusing one longer than the limit with its index and lengths. */
function encodeAll(ctx: RouteContext, texts: ScoreText[], field: string): EncodedText[] {
  return texts.map((t, i) => {
    const e = encodeText(ctx.scorer.tokenizer, t);
    const n = seqLength(e);
    if (n > ctx.limits.maxSeqLen) {
      throw new HttpError(422, `${field}[${i}] is ${n} tokens (prompt ${e.promptIds.length} + completion ${e.completionIds.length}); this server scores at most ${ctx.limits.maxSeqLen} (--max-seq-len; the model's context is ${ctx.scorer.nCtx})`);
    }
    return e;
  });
}

const score = (ctx: RouteContext, texts: EncodedText[], tokens: boolean, signal: AbortSignal) =>
  ctx.batcher.submit(texts.map((text) => ({ text, tokens })), signal);

/** Each reward's raw scores over the request, by name. */
function byReward(ctx: RouteContext, scores: SequenceScore[]): Record<string, number[]> {
  return Object.fromEntries(ctx.scorer.rewards.map((r) => [r.name, scores.map((s) => s.byName[r.name]!)]));
}

export const ROUTES: Record<string, Route> = {
  '/health': {
    method: 'GET',
    auth: false,
    handle: (ctx) => {
      const s = ctx.scorer.stats;
      return { status: ctx.draining() ? 'draining' : 'ok', in_flight: ctx.inFlight() - 1 /* not counting this one */, queued: ctx.batcher.queued, passes: s.passes, sequences: s.sequences, batch_sizes: s.batchSizes, busy_ms: Math.round(s.busyMs) };
    },
  },
  '/v1/info': {
    method: 'GET',
    auth: true,
    handle: (ctx) => ({
      ...ctx.scorer.info(),
      limits: { max_body_bytes: ctx.limits.maxBodyBytes, max_batch: ctx.limits.maxBatch, max_seq_len: ctx.limits.maxSeqLen, timeout_ms: ctx.limits.timeoutMs },
      batching: { batch_size: ctx.batching.batchSize, max_wait_ms: ctx.batching.maxWaitMs },
    }),
  },
  /** OpenRLHF's --remote_rm_url shape: one float per query, in order (a per-token reward counts with its sum). */
  '/get_reward': {
    method: 'POST',
    auth: true,
    async handle(ctx, body, signal) {
      const texts = encodeAll(ctx, openRlhfRequest(body, ctx.limits.maxBatch), 'query');
      const scores = await score(ctx, texts, false, signal);
      const rewards = scores.map((s) => s.total);
      // `scores` feeds OpenRLHF's dynamic filtering; `extra_logs` (lists, one value per query) is logged per reward.
      return { rewards, scores: rewards, extra_logs: byReward(ctx, scores) };
    },
  },
  /**
   * bonsai's own: weighted totals, each reward's score, per-token rewards (`token_rewards`, when
   * a reward is per token), per-token probe scores (asked for), batch metrics.
   */
  '/v1/rewards': {
    method: 'POST',
    auth: true,
    async handle(ctx, body, signal) {
      const req = rewardsRequest(body, ctx.limits.maxBatch);
      const scores = await score(ctx, encodeAll(ctx, req.texts, 'completions'), req.perToken, signal);
      const metrics: Record<string, number> = {};
      const named = byReward(ctx, scores);
      for (const [name, xs] of [...Object.entries(named), ['total', scores.map((s) => s.total)] as const]) {
        const { mean, std } = meanStd(xs);
        metrics[`rewards/${name}/mean`] = mean;
        metrics[`rewards/${name}/std`] = std;
      }
      for (const name of Object.keys(scores[0]?.tokenRewards ?? {})) Object.assign(metrics, tokenStats(name, scores.map((s) => Float32Array.from(s.tokenRewards![name]!))));
      return {
        rewards: scores.map((s) => s.total),
        by_reward: named,
        weights: Object.fromEntries(ctx.scorer.rewards.map((r) => [r.name, r.weight])),
        metrics,
        // One object per completion: each per-token reward's raw score at each completion token.
        ...(scores.some((s) => s.tokenRewards) ? { token_rewards: scores.map((s) => s.tokenRewards ?? {}) } : {}),
        ...(req.perToken ? { tokens: scores.map((s) => s.tokens) } : {}),
      };
    },
  },
};
