import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/index.ts';
import { frozenPass, type RolloutBatch } from '../../src/rewards/index.ts';
import { maskedEntropy, maskedMean, noGradLogprobs, tokenLogprobs } from '../../src/models/logprobs.ts';
import { tinyLlamaConfig, useCpu } from '../helpers/tiny.ts';
import { Rng } from '../../src/util/rng.ts';

beforeAll(useCpu);

/** The RL step's no-grad passes (frozen reference, old log-probs, entropy) with the output head in chunks. */
describe('noGradLogprobs', () => {
  const config = { ...tinyLlamaConfig, tiedEmbeddings: true };
  const R = 3;
  const T = 7;
  const rng = new Rng(4);
  const idsJs = Int32Array.from({ length: R * T }, () => rng.int(config.vocabSize));
  const maskJs = Float32Array.from({ length: R * (T - 1) }, (_, i) => (i % 4 === 0 ? 0 : 1));

  it.each([1, 5, 18, 1000])('equals tokenLogprobs and maskedEntropy of the full logits within 1e-5 (chunks of %i rows); no tensors left', (chunk) => {
    const m = createModel(config, 2);
    const ids = tf.tensor2d(idsJs, [R, T], 'int32');
    const mask = tf.tensor2d(maskJs, [R, T - 1]);
    const logits = m.forward(ids).logits;
    const want = tf.tidy(() => tokenLogprobs(logits, ids)).arraySync();
    const wantEntropy = maskedEntropy(logits, mask);
    logits.dispose();
    const before = tf.memory().numTensors;
    const { hidden } = m.forwardHidden(ids);
    const { logprobs, entropy } = noGradLogprobs(m, hidden, ids, chunk, true);
    const got = logprobs.arraySync();
    const gotEntropy = maskedMean(entropy!, mask);
    tf.dispose([hidden, logprobs, entropy!]);
    expect(tf.memory().numTensors).toBe(before);
    got.forEach((row, r) => row.forEach((x, t) => expect(Math.abs(x - want[r]![t]!)).toBeLessThan(1e-5)));
    expect(Math.abs(gotEntropy - wantEntropy)).toBeLessThan(1e-5);
    expect(gotEntropy).toBeGreaterThan(0);
    tf.dispose([ids, mask]);
    m.dispose();
  });

  it('frozenPass: the reference log-probs equal tokenLogprobs of a full forward within 1e-5, chunked or not', () => {
    const frozen = createModel(config, 2).frozenCopy();
    const batch = { ids: idsJs, R, T } as unknown as RolloutBatch;
    const ids = tf.tensor2d(idsJs, [R, T], 'int32');
    const want = tf.tidy(() => tokenLogprobs(frozen.forward(ids).logits, ids)).arraySync();
    for (const chunk of ['auto', 4] as const) {
      const pass = frozenPass(frozen, batch, [], chunk);
      const got = pass.refLogprobs.arraySync();
      pass.refLogprobs.dispose();
      pass.cache.dispose();
      got.forEach((row, r) => row.forEach((x, t) => expect(Math.abs(x - want[r]![t]!)).toBeLessThan(1e-5)));
    }
    ids.dispose();
    frozen.dispose();
  });
});
