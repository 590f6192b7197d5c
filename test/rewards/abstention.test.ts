import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Probe } from '../../src/probes/index.ts';
import { abstentionReward, abstentionValue } from '../../src/rewards/abstention.ts';
import { frozenPass, scoreRewards, type RolloutBatch } from '../../src/rewards/index.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Three rollouts: prompt [1, 2, 3] (T = 6); completions " u", " r", " rx" as token ids. */
function batch(): RolloutBatch {
  const rows = [[1, 2, 3, 5, 9, 0], [1, 2, 3, 5, 7, 0], [1, 2, 3, 6, 7, 8]];
  return {
    ids: Int32Array.from(rows.flat()), R: 3, T: 6, promptLens: [3, 3, 3],
    completions: [[5, 9], [5, 7], [6, 7, 8]], texts: ['abstain', 'claim', 'claim?'], prompts: ['q', 'q', 'q'], answers: [undefined, undefined, undefined],
    mask: new Float32Array(15),
  };
}

/** A logistic probe whose score is sigmoid(w · x[0] + b): it reads the first feature of the activation only. */
function firstFeatureProbe(d: number, w: number, b: number): Probe {
  const wv = new Float32Array(d);
  wv[0] = w;
  return new Probe(
    { name: 'p', hook: 'hook_embed', level: 'sequence', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.3, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: 'x' },
    { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.tensor1d(wv), b: tf.scalar(b) },
  );
}

describe('the abstention reward', () => {
  it('pays s − τ for an abstention, τ − s for a claim, s − τ − cost for a retraction', () => {
    const o = { abstain: /^abstain$/, retract: /\?$/, retractCost: 0.1 };
    expect(abstentionValue(0.9, 'abstain', o, 0.5)).toBeCloseTo(0.4);
    expect(abstentionValue(0.9, 'claim', o, 0.5)).toBeCloseTo(-0.4);
    expect(abstentionValue(0.2, 'claim', o, 0.5)).toBeCloseTo(0.3);
    expect(abstentionValue(0.9, 'claim?', o, 0.5)).toBeCloseTo(0.3);
    expect(abstentionValue(0.9, 'claim?', { ...o, retract: undefined }, 0.5)).toBeCloseTo(-0.4);
  });

  it('reads the frozen copy at completion token `at` only, sequence or per token; nothing leaks', async () => {
    const frozen = tinyModel(2).frozenCopy();
    const embed = frozen.valuesSync().get('embed.W_E')!; // [V, D]: hook_embed at a token is its row (no position added there)
    const d = frozen.config.dModel;
    const before = tf.memory().numTensors;
    const expected = (tokens: number[]) => tokens.map((t) => 1 / (1 + Math.exp(-(2 * embed[t * d]! + 0.1))));
    for (const at of [0, 1]) {
      const seq = abstentionReward({ name: 'a', weight: 1, probe: firstFeatureProbe(d, 2, 0.1), at, abstain: /^abstain$/, retract: /\?$/, retractCost: 0.1, threshold: 0.5, perToken: false });
      const tok = abstentionReward({ name: 't', weight: 1, probe: firstFeatureProbe(d, 2, 0.1), at, abstain: /^abstain$/, retractCost: 0.1, perToken: true });
      const pass = frozenPass(frozen, batch(), [seq, tok]);
      const s = await scoreRewards([seq, tok], batch(), { frozen: pass });
      const sc = expected(batch().completions.map((c) => c[at]!));
      expect(Array.from(seq.lastScores!)).toEqual(sc.map((v) => expect.closeTo(v, 5)));
      expect(Array.from(s.byName.a!)).toEqual([sc[0]! - 0.5, 0.5 - sc[1]!, sc[2]! - 0.6].map((v) => expect.closeTo(v, 5)));
      // Per token: τ is the probe's own threshold (0.3) here; each token gets value / length, summing to the value.
      const perTok = s.tokensByName.t!;
      expect(perTok.map((r) => r.length)).toEqual([2, 2, 3]);
      expect(Array.from(perTok[2]!)).toEqual([0, 1, 2].map(() => expect.closeTo((0.3 - sc[2]!) / 3, 5)));
      expect(s.byName.t![0]).toBeCloseTo(sc[0]! - 0.3, 5);
      pass.refLogprobs.dispose();
      pass.cache.dispose();
      [seq, tok].forEach((r) => r.dispose!());
    }
    expect(tf.memory().numTensors).toBe(before);
    frozen.dispose();
  });

  it('a completion shorter than the read position is an error naming the rollout', async () => {
    const frozen = tinyModel(2).frozenCopy();
    const r = abstentionReward({ name: 'a', weight: 1, probe: firstFeatureProbe(frozen.config.dModel, 1, 0), at: 2, abstain: /x/, retractCost: 0, perToken: false });
    const pass = frozenPass(frozen, batch(), [r]);
    await expect(scoreRewards([r], batch(), { frozen: pass })).rejects.toThrow(/reward "a": rollout 0 has 2 completion tokens; the probe reads completion token 2/);
    pass.refLogprobs.dispose();
    pass.cache.dispose();
    r.dispose!();
    frozen.dispose();
  });

  it('the recipe refuses a token-level probe and an invalid pattern, at their fields', () => {
    const base = ['model.init.checkpoint=test/fixtures/recipes/checkpoint', 'probes.0.checkpoint=test/fixtures/recipes/checkpoint'];
    const f = 'recipes/hallucination/f_rl_abstention.yaml';
    expect(() => loadRecipe(f, { overrides: [...base, 'probes.0.level=token'] })).toThrow(/rewards\.0\.probe: probe "entity" is token level; the abstention reward reads one position/);
    expect(() => loadRecipe(f, { overrides: [...base, 'rewards.0.abstain=(unclosed'] })).toThrow(/rewards\.0\.abstain: not a valid JavaScript regular expression/);
    expect(() => loadRecipe(f, { overrides: [...base, 'probes.0.hook=blocks.1.hook_resid_post'] })).toThrow(/probes\.0\.hook: features: logit_lens reads ln_final\.hook_normalized/);
  });
});
