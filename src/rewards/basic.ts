/** Task rewards on the decoded text: exact_match, regex and length. */
import { BonsaiError } from '../errors.ts';
import type { Reward, RolloutBatch } from './types.ts';

/** Text before the first `stop` string (e.g. a newline ending an answer), trimmed. */
function answerOf(text: string, stop?: string): string {
  const cut = stop ? text.split(stop)[0]! : text;
  return cut.trim();
}

/**
 * 1 when the completion (up to `stop`) equals the rollout's reference answer, else 0.
 * Prompts without an answer (e.g. questions whose honest answer is to abstain) score 0:
 * only answerable prompts can earn this reward.
 */
export function exactMatchReward(name: string, weight: number, stop?: string): Reward {
  return {
    name,
    weight,
    score: (b: RolloutBatch) =>
      b.texts.map((t, i) => {
        const want = b.answers[i];
        return want !== undefined && answerOf(t, stop) === want.trim() ? 1 : 0;
      }),
  };
}

/** 1 when the completion matches `pattern` (0 otherwise); `invert` flips it. */
export function regexReward(name: string, weight: number, pattern: string, invert = false): Reward {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new BonsaiError(`reward "${name}": invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  return { name, weight, score: (b) => b.texts.map((t) => (re.test(t) !== invert ? 1 : 0)) };
}

/** −|len − target| / target in tokens: 0 at the target length, more negative away from it. */
export function lengthReward(name: string, weight: number, target: number): Reward {
  return { name, weight, score: (b) => b.completions.map((c) => (0 - Math.abs(c.length - target)) / target) }; // 0 − x, not −x: no −0
}
