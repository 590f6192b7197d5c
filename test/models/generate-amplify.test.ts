import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, modelConfig } from '../../src/models/index.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('generate with logit-diff amplification', () => {
  const prompts = [[1, 2, 3], [7], [4, 4, 4, 4, 4]];
  const opts = { maxNewTokens: 10, temperature: 1, rng: 17 };

  it('α = 0 is plain sampling under the same seed; α > 0 changes the samples; no tensor leaks', () => {
    const [after, before] = [tinyModel(5), tinyModel(6)];
    const plain = generate(after, prompts, opts);
    const n0 = tf.memory().numTensors;
    const zero = generate(after, prompts, { ...opts, amplify: { from: before, alpha: 0 } });
    expect(tf.memory().numTensors).toBe(n0);
    expect(zero.tokens).toEqual(plain.tokens);
    const strong = generate(after, prompts, { ...opts, amplify: { from: before, alpha: 4 } });
    expect(strong.tokens).not.toEqual(plain.tokens);
    after.dispose();
    before.dispose();
  });

  it('greedy decoding follows the argmax of (1 + α)·l_B − α·l_A', () => {
    const [b, a] = [tinyModel(5), tinyModel(6)];
    const ids = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
    const [lb, la] = [b.forward(ids), a.forward(ids)];
    const amp = tf.tidy(() => tf.argMax(tf.sub(tf.mul(lb.logits, 3), tf.mul(la.logits, 2)).slice([0, 2, 0], [1, 1, -1]).reshape([-1])));
    const want = amp.dataSync()[0];
    tf.dispose([ids, lb.logits, la.logits, amp]);
    lb.cache.dispose();
    la.cache.dispose();
    const out = generate(b, [[1, 2, 3]], { maxNewTokens: 1, temperature: 0, amplify: { from: a, alpha: 2 } });
    expect(out.tokens[0]).toEqual([want]);
    a.dispose();
    b.dispose();
  });

  it('refuses a model to amplify from with another vocabulary', () => {
    const b = tinyModel(5);
    const a = tinyModel(6, modelConfig({ vocabSize: 30, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: false }));
    expect(() => generate(b, [[1]], { maxNewTokens: 1, amplify: { from: a, alpha: 1 } })).toThrow(/amplify: the model to amplify from differs in vocabSize \(23 vs 30\)/);
    a.dispose();
    b.dispose();
  });
});
