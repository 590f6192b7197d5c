import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { exactMatchReward, frozenPass, lengthReward, moduleReward, probeReward, regexReward, scoreRewards, type RolloutBatch } from '../../src/rewards/index.ts';
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

describe('rewards', () => {
  it('task rewards score text with known answers, weighted and logged by name', async () => {
    const ctx = noCtx();
    const s = await scoreRewards([exactMatchReward('em', 1), regexReward('hasC', 0.5, 'C'), lengthReward('len', 2, 2)], batch(), ctx);
    expect(Array.from(s.byName.em!)).toEqual([1, 0]);
    expect(Array.from(s.byName.hasC!)).toEqual([0, 1]);
    expect(Array.from(s.byName.len!)).toEqual([0, -0.5]);
    expect(Array.from(s.total)).toEqual([1, 0.5 - 1]);
    expect(s.metrics['rewards/em/mean']).toBe(0.5);
    expect(s.metrics['rewards/em/std']).toBe(0.5);
    ctx.frozen.refLogprobs.dispose();
  });

  it('a module reward that throws, returns NaN or the wrong count is reported by name, never zeroed', async () => {
    const dir = tempDir();
    const mk = (file: string, body: string) => (writeFileSync(join(dir, file), body), join(dir, file));
    const ok = await moduleReward('user', 1, mk('ok.mjs', 'export default (b) => b.texts.map((t) => t.length);'));
    const ctx = noCtx();
    expect(Array.from((await scoreRewards([ok], batch(), ctx)).byName.user!)).toEqual([2, 1]);
    // The documented batch: texts, completions, prompts and answers, one per rollout.
    const seen = await moduleReward('seen', 1, mk('seen.mjs', 'export default (b) => b.prompts.map((p, i) => p.length * 10 + b.completions[i].length + (b.answers[i] === "AB" ? 100 : 0));'));
    expect(Array.from((await scoreRewards([seen], batch(), ctx)).byName.seen!)).toEqual([122, 131]);
    const cases: Array<[string, RegExp]> = [
      ['export default () => { throw new Error("boom"); };', /step 7: reward "bad" threw: boom/],
      ['export default () => [1, NaN];', /reward "bad" returned NaN for rollout 1/],
      ['export default () => [1];', /reward "bad" returned 1 scores for 2 rollouts/],
      ['export default async () => "x";', /reward "bad" returned 1 scores|reward "bad" returned x/],
    ];
    for (const [i, [body, err]] of cases.entries()) {
      const r = await moduleReward('bad', 1, mk(`bad${i}.mjs`, body));
      await expect(scoreRewards([ok, r], batch(), ctx, 7)).rejects.toThrow(err);
    }
    await expect(moduleReward('nofn', 1, mk('nofn.mjs', 'export const x = 1;'))).rejects.toThrow(/reward "nofn".*no function export "default"/);
    ctx.frozen.refLogprobs.dispose();
  });

  it('the probe reward reads the frozen pass: one forward gives ref log-probs and activations', async () => {
    const frozen = tinyModel(1, { ...tinyModel(1).config, vocabSize: 257, nCtx: 8 }).frozenCopy();
    const before = tf.memory().numTensors;
    let calls = 0;
    const fwd = frozen.forward.bind(frozen);
    frozen.forward = (ids, o) => (calls++, fwd(ids, o));
    const fwdHidden = frozen.forwardHidden.bind(frozen); // the pass stops at the hidden states (its head runs in chunks)
    frozen.forwardHidden = (ids, o) => (calls++, fwdHidden(ids, o));
    const fire = probeReward({ name: 'p', weight: 1, probe: constantProbe(frozen, 'blocks.1.hook_resid_post', 3), aggregate: 'mean', sign: -1, host: 'frozen' });
    const any = probeReward({ name: 'q', weight: 1, probe: constantProbe(frozen, 'blocks.0.hook_resid_post', -3), aggregate: 'any', sign: 1, host: 'frozen' });
    const pass = frozenPass(frozen, batch(), [fire, any]);
    expect(calls).toBe(1);
    expect(pass.refLogprobs.shape).toEqual([2, 4]);
    expect(pass.cache.names().sort()).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
    const s = await scoreRewards([fire, any], batch(), { frozen: pass });
    expect(s.byName.p![0]).toBeCloseTo(-1 / (1 + Math.exp(-3)), 5);
    expect(Array.from(s.byName.q!)).toEqual([0, 0]); // sigmoid(−3) < threshold 0.5
    const onPolicy = probeReward({ name: 'live', weight: 1, probe: constantProbe(frozen, 'hook_embed', 0), aggregate: 'max', sign: 1, host: 'policy' });
    await expect(scoreRewards([onPolicy], batch(), { frozen: pass })).rejects.toThrow(/reward "live": activations at hook_embed were not cached on the policy/);
    pass.refLogprobs.dispose();
    pass.cache.dispose();
    [fire, any, onPolicy].forEach((r) => r.dispose!());
    expect(tf.memory().numTensors).toBe(before);
    frozen.dispose();
  });
});
