import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, modelConfig } from '../../src/models/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { probeIntervention } from '../../src/probes/index.ts';
import { exactMatchReward, probeReward, regexReward } from '../../src/rewards/index.ts';
import { createLossStep } from '../../src/trainer/seam.ts';
import { AdamW } from '../../src/trainer/optimizer.ts';
import { clippedPg, cispo, groupAdvantages, k3 } from '../../src/trainer/rl-loss.ts';
import { rlStep, type RlStepOptions } from '../../src/trainer/rl.ts';
import { constantProbe } from '../helpers/probe.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const tok = createTokenizer('byte');
const byteModel = (seed: number) => HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), seed);

describe('RL losses', () => {
  it('GRPO advantages: group-centred, with or without the std division', () => {
    expect(Array.from(groupAdvantages(Float32Array.from([1, 0, 5, 5]), 2, false))).toEqual([0.5, -0.5, 0, 0]);
    const a = groupAdvantages(Float32Array.from([1, 0, 2, 2]), 2, true);
    expect(a[0]).toBeCloseTo(0.5 / Math.SQRT1_2, 3); // sample std of {1,0} = 0.7071
    expect(a[2]).toBe(0);
  });

  it('clipped PG and CISPO on known ratios; k3 is 0 at the reference and positive away from it', () => {
    tf.tidy(() => {
      const old = tf.zeros([1, 3]) as tf.Tensor2D;
      const lp = tf.tensor2d([[Math.log(1.5), Math.log(0.5), 0]]);
      const adv = tf.tensor2d([[1]]);
      const c = clippedPg(0.2).perToken({ logprobs: lp, oldLogprobs: old, adv });
      const loss = c.loss.arraySync()[0]!;
      expect(loss[0]).toBeCloseTo(-1.2, 5); // min(1.5, 1.2)
      expect(loss[1]).toBeCloseTo(-0.5, 5); // min(0.5, 0.8)
      expect(Array.from(c.clipped.dataSync())).toEqual([1, 0, 0]);
      const s = cispo(0.2).perToken({ logprobs: lp, oldLogprobs: old, adv });
      expect(s.loss.arraySync()[0]![0]).toBeCloseTo(-1.2 * Math.log(1.5), 5);
      expect(Array.from(k3(lp, lp).dataSync())).toEqual([0, 0, 0]);
      expect(k3(lp, old).dataSync()[0]).toBeCloseTo(1 / 1.5 - Math.log(1 / 1.5) - 1, 6);
    });
  });
});

describe('runtime intervention', () => {
  it('inserts the marker when the frozen-copy probe fires on the prefix, counts it, and never when it does not', () => {
    const policy = byteModel(1);
    const frozen = policy.frozenCopy();
    const marker = tok.encode('??');
    for (const [bias, want] of [[5, 2], [-5, 0]] as const) {
      const probe = constantProbe(frozen, 'blocks.0.hook_resid_post', bias);
      const iv = probeIntervention({ frozen, probe, tokens: marker });
      const g = generate(policy, [tok.encode('Q:'), tok.encode('R:')], { maxNewTokens: 5, temperature: 0, insert: iv.insert });
      expect(iv.state.count).toBe(want);
      expect(g.interventions).toEqual(want ? [1, 1] : [0, 0]);
      if (want) {
        expect(g.tokens[0]!.slice(0, 2)).toEqual(marker);
        expect(g.inserted[0]).toEqual([true, true, false, false, false]);
      }
      expect(g.tokens[0]).toHaveLength(5);
      probe.dispose();
    }
    policy.dispose();
    frozen.dispose();
  });
});

describe('RL step', () => {
  function setup(beta = 0.05) {
    const policy = byteModel(2);
    const frozen = policy.frozenCopy();
    const optimizer = new AdamW({ lr: 1e-2 });
    const rewards = [
      probeReward({ name: 'probe', weight: 1, probe: constantProbe(frozen, 'blocks.0.hook_resid_post', 0), aggregate: 'mean', sign: -1, host: 'frozen' }),
      regexReward('has_a', 1, 'a'),
      // Varies within every group, so advantages are non-zero and the policy must move.
      { name: 'first_byte', weight: 1, score: (b: { completions: number[][] }) => b.completions.map((c) => c[0]! / 256) },
      exactMatchReward('em', 0.5),
    ];
    const o: RlStepOptions = {
      policy, frozen, tokenizer: tok, rewards, loss: clippedPg(0.2),
      step: createLossStep({ model: policy, optimizer, transforms: [] }),
      rollout: { G: 4, maxNewTokens: 4, temperature: 1, rng: 3 }, beta, scaleByStd: true, innerEpochs: 2,
    };
    return { o, policy, frozen, optimizer, rewards };
  }

  it('one frozen forward per rollout batch; metrics per reward; tensor count flat; frozen copy untouched', async () => {
    const { o, policy, frozen, optimizer, rewards } = setup();
    let calls = 0;
    const fwd = frozen.forward.bind(frozen);
    frozen.forward = (ids, opts) => (calls++, fwd(ids, opts));
    const fwdHidden = frozen.forwardHidden.bind(frozen); // the pass stops at the hidden states (its head runs in chunks)
    frozen.forwardHidden = (ids, opts) => (calls++, fwdHidden(ids, opts));
    const fp = frozen.fingerprint();
    const items = [{ prompt: 'x:', answer: 'a' }, { prompt: 'y:', answer: 'b' }];
    await rlStep(o, items); // warm-up: optimizer state is created on the first step
    const before = tf.memory().numTensors;
    calls = 0;
    const { metrics: m } = await rlStep(o, items);
    expect(calls).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    for (const k of ['rewards/probe/mean', 'rewards/has_a/std', 'rewards/em/mean', 'train/kl', 'train/clip_frac', 'train/entropy', 'train/response_length']) {
      expect(Number.isFinite(m[k]), k).toBe(true);
    }
    expect(m['train/kl']).toBeGreaterThan(0); // the policy moved on step 1
    expect(m['train/response_length']).toBe(4);
    expect(frozen.fingerprint()).toBe(fp);
    expect(frozen.fingerprint()).toBe(frozen.frozenCopy().fingerprint());
    rewards.forEach((r) => r.dispose?.());
    [policy, frozen].forEach((x) => x.dispose());
    optimizer.dispose();
  });
});
