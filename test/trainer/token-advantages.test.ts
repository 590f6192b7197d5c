import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfig } from '../../src/models/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { generate } from '../../src/models/generate.ts';
import { scoreRewards, type Reward, type RolloutBatch } from '../../src/rewards/index.ts';
import { createLossStep } from '../../src/trainer/seam.ts';
import { AdamW } from '../../src/trainer/optimizer.ts';
import { clippedPg, groupAdvantages } from '../../src/trainer/rl-loss.ts';
import { rlStep } from '../../src/trainer/rl.ts';
import { advantagesOf, tokenAdvantages } from '../../src/trainer/token-advantages.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Two groups of two rollouts, prompts of 1 and 2 tokens, T = 5 (W = 4 loss positions per row). */
const layout = { R: 4, T: 5, promptLens: [1, 2, 1, 1] };

describe('per-token advantages', () => {
  it("GRPO's advantage of the total on every token, plus the token's reward minus its group's token mean (hand-computed)", () => {
    // Group 0: token rewards [0, -1, 0] and [-2], sequence scores 1 and 0 → totals 0 and -2; token mean -0.75.
    // Group 1: [1, 1] and [0, 0, 0, 0], sequence scores 0 → totals 2 and 0; token mean 1/3.
    const tokens = [[0, -1, 0], [-2], [1, 1], [0, 0, 0, 0]].map((x) => Float32Array.from(x));
    const A = tokenAdvantages(Float32Array.from([0, -2, 2, 0]), tokens, layout, 2, false);
    const row = (i: number) => Array.from(A.subarray(i * 4, i * 4 + 4));
    expect(row(0)).toEqual([1 + 0.75, 1 - 1 + 0.75, 1 + 0.75, 1]); // completion tokens at positions 0..2
    expect(row(1)).toEqual([-1, -1 - 2 + 0.75, -1, -1]); // prompt of 2: its one token predicted at position 1
    const third = 1 / 3;
    row(2).slice(0, 2).forEach((v) => expect(v).toBeCloseTo(1 + 1 - third, 6));
    row(3).forEach((v) => expect(v).toBeCloseTo(-1 - third, 6));
  });

  it('a group whose tokens all score the same gets exactly GRPO; the token term is centred over the group and scaled by its std', () => {
    const same = [[2, 2], [2], [0.5, 0.5], [0.5, 0.5, 0.5, 0.5]].map((x) => Float32Array.from(x));
    const total = Float32Array.from([1, 0, 0.5, 2]);
    for (const scale of [false, true]) {
      const A = tokenAdvantages(total, same, layout, 2, scale);
      const grpo = groupAdvantages(total, 2, scale);
      for (let i = 0; i < 4; i++) for (let t = 0; t < 4; t++) expect(A[i * 4 + t]).toBeCloseTo(grpo[i]!, 5);
    }
    const varied = [[0.3, -1, 0.2], [-2, 0.5], [1, 1], [0, -0.25, 0, 0]].map((x) => Float32Array.from(x));
    const A = tokenAdvantages(total, varied, layout, 2, true);
    const grpo = groupAdvantages(total, 2, true);
    const terms = [0, 1].flatMap((i) => Array.from(varied[i]!, (_, k) => A[i * 4 + layout.promptLens[i]! + k - 1]! - grpo[i]!));
    expect(terms.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 5);
    expect(Math.sqrt(terms.reduce((a, b) => a + b * b, 0) / (terms.length - 1))).toBeCloseTo(1, 3);
  });

  it('sequence rewards alone keep the [R, 1] GRPO advantages', async () => {
    const batch: RolloutBatch = { ids: new Int32Array(8), R: 2, T: 4, promptLens: [1, 1], completions: [[5], [6, 7]], texts: ['a', 'bc'], prompts: ['', ''], answers: [undefined, undefined], mask: new Float32Array(6) };
    const ctx = { frozen: { refLogprobs: tf.zeros([2, 3]) as tf.Tensor2D, cache: { has: () => false } as never } };
    const seqOnly: Reward = { name: 'len', weight: 1, score: (b) => b.completions.map((c) => c.length) };
    const a = advantagesOf(await scoreRewards([seqOnly], batch, ctx), batch, 2, false);
    expect(a.shape).toEqual([2, 1]);
    expect(Array.from(a.dataSync())).toEqual([-0.5, 0.5]);
    const perToken: Reward = { name: 'tok', weight: 1, score: (b) => b.completions.map((c) => c.map(() => 1)) };
    const b = advantagesOf(await scoreRewards([seqOnly, perToken], batch, ctx), batch, 2, false);
    expect(b.shape).toEqual([2, 3]);
    tf.dispose([a, b, ctx.frozen.refLogprobs]);
  });

  it('RL with a per-token reward alone moves the policy the rewarded way, tensors flat across steps', async () => {
    const tok = createTokenizer('byte');
    const policy = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 4);
    const frozen = policy.frozenCopy();
    const optimizer = new AdamW({ lr: 1e-2 });
    // +1 for each completion byte below 128: only a per-token signal, no sequence reward.
    const low: Reward = { name: 'low', weight: 1, score: (b) => b.completions.map((c) => c.map((id) => (id < 128 ? 1 : 0))) };
    const o = {
      policy, frozen, tokenizer: tok, rewards: [low], loss: clippedPg(0.2), step: createLossStep({ model: policy, optimizer, transforms: [] }),
      rollout: { G: 4, maxNewTokens: 4, temperature: 1, rng: 7 }, beta: 0, scaleByStd: true, innerEpochs: 1,
    };
    const share = () => {
      const g = generate(policy, Array.from({ length: 64 }, () => tok.encode('q:')), { maxNewTokens: 4, temperature: 1, rng: 11 });
      const all = g.tokens.flat();
      return all.filter((id) => id < 128).length / all.length;
    };
    const before = share();
    const items = [{ prompt: 'q:' }, { prompt: 'r:' }];
    const { metrics } = await rlStep(o, items);
    expect(metrics['rewards/low/token_mean']).toBeGreaterThan(0);
    const n = tf.memory().numTensors;
    for (let s = 0; s < 14; s++) await rlStep(o, items);
    expect(tf.memory().numTensors).toBe(n);
    expect(share()).toBeGreaterThan(before + 0.1);
    [policy, frozen].forEach((x) => x.dispose());
    optimizer.dispose();
  }, 600_000); // 100–500 s on the shared 2-core machine
});
