import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import { ablateHook } from '../../src/gradients/interventions.ts';
import type { ForwardOptions } from '../../src/models/hooks.ts';
import { HookedTransformer, modelConfig } from '../../src/models/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { regexReward } from '../../src/rewards/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { createLossStep } from '../../src/trainer/seam.ts';
import { AdamW } from '../../src/trainer/optimizer.ts';
import { clippedPg } from '../../src/trainer/rl-loss.ts';
import { rlStep } from '../../src/trainer/rl.ts';
import { train } from '../../src/trainer/train.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';
import { tinyRlRecipe } from './rl-tiny-recipe.ts';

beforeAll(useCpu);

/** The tiny RL recipe's init weights (a fresh model from run.seed 5), by path. */
function initWeights(): Map<string, Float32Array> {
  const m = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 5);
  const v = m.valuesSync();
  m.dispose();
  return v;
}

describe('RL honours freeze', () => {
  it('blocks.0.attn.* stays bit-identical under AdamW with weight decay, across a stop and --resume; freeze/verified logged', async () => {
    const dir = tempDir();
    const recipe = tinyRlRecipe(dir, { steps: 4, weightDecay: 0.5, extra: 'freeze: [ "blocks.0.attn.*" ]' });
    const first = new MemoryTracker();
    await train(recipe, { tracker: first, stopAfter: 2 });
    const tracker = new MemoryTracker();
    const lines: string[] = [];
    const r = await train(recipe, { tracker, resume: true, onLog: (l) => lines.push(l) });
    expect(r.step).toBe(4);
    expect(first.values('freeze/entries')[0]).toBe(4 * 16 * 16 + 3 * 16 + 16); // W_Q,K,V,O + b_Q,K,V + b_O
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
    expect(tracker.values('freeze/verified')).toEqual([1]);

    const init = initWeights();
    const final = loadCheckpoint(r.checkpoint!).weights;
    const attn = [...init.keys()].filter((p) => p.startsWith('blocks.0.attn.'));
    expect(attn.length).toBeGreaterThan(0);
    for (const p of attn) expect(Array.from(final.get(p)!), p).toEqual(Array.from(init.get(p)!));
    // The rest trained (and decayed): the freeze, not a dead run, is what kept attn still.
    for (const p of ['blocks.0.mlp.W_in', 'embed.W_E']) expect(Array.from(final.get(p)!), p).not.toEqual(Array.from(init.get(p)!));
  });
});

describe('RL honours interventions', () => {
  it('an ablate intervention changes the policy loss pass; the frozen reference pass and the rollouts run without it', async () => {
    const tok = createTokenizer('byte');
    const dir = [Array.from({ length: 16 }, (_, i) => (i === 3 ? 1 : 0)), Array.from({ length: 16 }, (_, i) => (i === 7 ? 1 : 0))];
    const hook = ablateHook(dir);
    const run = async (forward?: Pick<ForwardOptions, 'hooks'>) => {
      const policy = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 2);
      const frozen = policy.frozenCopy();
      const optimizer = new AdamW({ lr: 1e-2 });
      const seen = { frozenHooked: 0, frozenLogits: [] as number[], policyHooked: 0, policyPlain: 0 };
      const ffwd = frozen.forward.bind(frozen);
      frozen.forward = (ids, opts) => {
        if (opts?.hooks?.length) seen.frozenHooked++;
        const r = ffwd(ids, opts);
        seen.frozenLogits.push(...r.logits.dataSync());
        return r;
      };
      // The reference pass stops at the hidden states (its head runs in chunks): record those.
      const fhid = frozen.forwardHidden.bind(frozen);
      frozen.forwardHidden = (ids, opts) => {
        if (opts?.hooks?.length) seen.frozenHooked++;
        const r = fhid(ids, opts);
        seen.frozenLogits.push(...r.hidden.dataSync());
        return r;
      };
      const pfwd = policy.forward.bind(policy);
      policy.forward = (ids, opts) => (opts?.hooks?.length ? seen.policyHooked++ : seen.policyPlain++, pfwd(ids, opts));
      // The RL loss passes stop at the hidden states (chunked cross-entropy unembeds them).
      const phid = policy.forwardHidden.bind(policy);
      policy.forwardHidden = (ids, opts) => (opts?.hooks?.length ? seen.policyHooked++ : seen.policyPlain++, phid(ids, opts));
      const { metrics: m } = await rlStep(
        { policy, frozen, tokenizer: tok, rewards: [regexReward('has_a', 1, 'a'), { name: 'first', weight: 1, score: (b) => b.completions.map((c) => c[0]! / 256) }],
          loss: clippedPg(0.2), step: createLossStep({ model: policy, optimizer, transforms: [] }),
          rollout: { G: 4, maxNewTokens: 4, temperature: 1, rng: 3 }, beta: 0.05, scaleByStd: true, innerEpochs: 2, forward },
        [{ prompt: 'x:' }, { prompt: 'y:' }],
      );
      [policy, frozen].forEach((x) => x.dispose());
      optimizer.dispose();
      return { m, seen };
    };
    const plain = await run();
    const before = tf.memory().numTensors;
    const ablated = await run({ hooks: [{ at: 'blocks.0.hook_resid_post', fn: hook.fn }] });
    expect(tf.memory().numTensors).toBe(before);
    hook.q.dispose();

    // Policy: the old-log-prob pass and both inner-epoch loss passes carry the hook; rollout sampling (4 tokens) does not.
    expect(ablated.seen.policyHooked).toBe(3);
    expect(ablated.seen.policyPlain).toBe(plain.seen.policyPlain - 3);
    expect(plain.seen.policyHooked).toBe(0);
    // The rollouts are the same samples (generation runs as at inference), so the same rewards...
    expect(ablated.m['rewards/total/mean']).toBe(plain.m['rewards/total/mean']);
    expect(ablated.m['train/response_length']).toBe(plain.m['train/response_length']);
    // ...and the same frozen reference pass, never hooked; only the policy's loss changed.
    expect(ablated.seen.frozenHooked).toBe(0);
    expect(plain.seen.frozenLogits.length).toBeGreaterThan(0);
    expect(ablated.seen.frozenLogits).toEqual(plain.seen.frozenLogits);
    expect(ablated.m['train/loss']).not.toBeCloseTo(plain.m['train/loss']!, 6);
    expect(ablated.m['train/kl']).not.toBeCloseTo(plain.m['train/kl']!, 8);
  });

  it('a recipe `interventions:` section reaches the RL run and changes its losses, not its first rollouts', async () => {
    const dirs = tempDir();
    const file = join(dirs, 'dirs.json');
    saveDirections(file, { format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.0.hook_resid_post', width: 16, vectors: [Array.from({ length: 16 }, (_, i) => (i < 8 ? 1 : -1))] });
    const plain = new MemoryTracker();
    await train(tinyRlRecipe(tempDir(), { steps: 1 }), { tracker: plain });
    const ablated = new MemoryTracker();
    await train(tinyRlRecipe(tempDir(), { steps: 1, extra: `interventions: [ { kind: ablate, hook: blocks.0.hook_resid_post, directions: ${file} } ]` }), { tracker: ablated });
    expect(ablated.values('rewards/total/mean')).toEqual(plain.values('rewards/total/mean'));
    expect(ablated.values('train/loss')[0]).not.toBeCloseTo(plain.values('train/loss')[0]!, 6);
  });
});

describe('RL progress', () => {
  it('reports the sampled completion tokens per second of each step (not a placeholder 0)', async () => {
    const recipe = tinyRlRecipe(tempDir(), { steps: 2 });
    const rates: number[] = [];
    await train(recipe, { tracker: new MemoryTracker(), onStep: (_s, _t, m) => rates.push(m.tokensPerSec) });
    expect(rates).toHaveLength(2);
    for (const r of rates) expect(r).toBeGreaterThan(0);
  });
});
