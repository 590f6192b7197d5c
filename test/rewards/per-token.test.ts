import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScores, frozenPass, lengthReward, moduleReward, probeReward, scoreRewards, type Reward, type RolloutBatch } from '../../src/rewards/index.ts';
import { constantProbe } from '../helpers/probe.ts';
import { tempDir } from '../helpers/recipes.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Two rollouts of 3 prompt + 2/1 completion tokens, T = 5. */
function batch(): RolloutBatch {
  return {
    ids: Int32Array.from([1, 2, 3, 65, 66, 1, 2, 3, 67, 0]), R: 2, T: 5, promptLens: [3, 3],
    completions: [[65, 66], [67]], texts: ['AB', 'C'], prompts: ['Q1', 'Q22'], answers: ['AB', 'AB'],
    mask: Float32Array.from([0, 0, 1, 1, 0, 0, 1, 0]),
  };
}
const noCtx = () => ({ frozen: { refLogprobs: tf.zeros([2, 4]) as tf.Tensor2D, cache: { has: () => false } as never } });
const fixed = (name: string, weight: number, out: unknown): Reward => ({ name, weight, score: () => out as number[] });

describe('per-token rewards', () => {
  it('mix with sequence rewards: totals add each per-token sum by weight; per-token scores and stats are kept', async () => {
    const ctx = noCtx();
    const s = await scoreRewards([lengthReward('len', 2, 2), fixed('tok', 0.5, [[1, -3], [4]])], batch(), ctx, 3);
    expect(Array.from(s.byName.len!)).toEqual([0, -0.5]);
    expect(Array.from(s.byName.tok!)).toEqual([-2, 4]); // sums over each completion
    expect(Array.from(s.total)).toEqual([0 + 0.5 * -2, -1 + 0.5 * 4]);
    expect(s.tokensByName.tok!.map((x) => Array.from(x))).toEqual([[1, -3], [4]]);
    expect(s.tokenTotal!.map((x) => Array.from(x))).toEqual([[0.5, -1.5], [2]]);
    expect(s.metrics['rewards/tok/token_mean']).toBeCloseTo(2 / 3, 6);
    expect(s.metrics['rewards/tok/token_min']).toBe(-3);
    expect(s.metrics['rewards/tok/token_max']).toBe(4);
    expect(s.metrics['rewards/tok/token_std']).toBeCloseTo(Math.sqrt((1 + 9 + 16) / 3 - (2 / 3) ** 2), 5);
    expect(s.metrics['rewards/tok/mean']).toBe(1);
    expect(s.metrics['rewards/len/token_mean']).toBeUndefined();
    // Sequence rewards alone: nothing per token, totals as before.
    const seq = await scoreRewards([lengthReward('len', 2, 2)], batch(), ctx);
    expect(seq.tokenTotal).toBeUndefined();
    expect(seq.tokensByName).toEqual({});
    ctx.frozen.refLogprobs.dispose();
  });

  it('the wrong number of per-token scores, a mixed shape or a NaN token is an error naming the reward and the rollout', async () => {
    const ctx = noCtx();
    const cases: Array<[unknown, RegExp]> = [
      [[[1, 2], [3, 4]], /step 9: reward "pt" returned 2 per-token scores for rollout 1, which has 1 completion tokens/],
      [[[1], [3]], /reward "pt" returned 1 per-token scores for rollout 0, which has 2 completion tokens/],
      [[[1, 2]], /reward "pt" returned 1 scores for 2 rollouts/],
      [[[1, 2], 3], /reward "pt" returned a number for rollout 1 but arrays for others/],
      [[[1, NaN], [3]], /reward "pt" returned NaN for rollout 0, completion token 1/],
      [7, /reward "pt" returned number, not an array of 2 scores/],
    ];
    for (const [out, err] of cases) await expect(scoreRewards([fixed('pt', 1, out)], batch(), ctx, 9)).rejects.toThrow(err);
    expect(checkScores('pt', Float32Array.from([1, 2]), batch()).kind).toBe('sequence');
    ctx.frozen.refLogprobs.dispose();
  });

  it('a module reward returning arrays is a per-token reward', async () => {
    const dir = tempDir();
    const file = join(dir, 'tok.mjs');
    writeFileSync(file, 'export default (b) => b.completions.map((c) => c.map((id) => (id === 66 ? -1 : 0)));');
    const r = await moduleReward('no_b', 1, file);
    const ctx = noCtx();
    const s = await scoreRewards([r], batch(), ctx);
    expect(s.tokensByName.no_b!.map((x) => Array.from(x))).toEqual([[0, -1], [0]]);
    expect(Array.from(s.total)).toEqual([-1, 0]);
    ctx.frozen.refLogprobs.dispose();
  });

  it('a token probe with aggregate: none gives sign × its score at every completion token (and its mean is aggregate: mean)', async () => {
    const frozen = tinyModel(1, { ...tinyModel(1).config, vocabSize: 257, nCtx: 8 }).frozenCopy();
    const before = tf.memory().numTensors;
    const probe = () => constantProbe(frozen, 'blocks.0.hook_resid_post', 1.5);
    const none = probeReward({ name: 'pii', weight: 1, probe: probe(), aggregate: 'none', sign: -1, host: 'frozen' });
    const mean = probeReward({ name: 'pii_mean', weight: 1, probe: probe(), aggregate: 'mean', sign: -1, host: 'frozen' });
    const pass = frozenPass(frozen, batch(), [none, mean]);
    const s = await scoreRewards([none, mean], batch(), { frozen: pass });
    const p = 1 / (1 + Math.exp(-1.5));
    expect(s.tokensByName.pii!.map((x) => x.length)).toEqual([2, 1]);
    for (const v of s.tokensByName.pii!.flatMap((x) => Array.from(x))) expect(v).toBeCloseTo(-p, 5);
    expect(s.byName.pii![0]! / 2).toBeCloseTo(s.byName.pii_mean![0]!, 5);
    pass.refLogprobs.dispose();
    pass.cache.dispose();
    [none, mean].forEach((r) => r.dispose!());
    expect(tf.memory().numTensors).toBe(before);
    frozen.dispose();
  });
});
