import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/models/index.ts';
import { AdamW, createTrainStep } from '../../src/trainer/index.ts';
import { randomBatch, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('frozenCopy', () => {
  it('stays bit-identical while the policy trains, and is never trainable', () => {
    const policy = tinyModel(3);
    const frozen = policy.frozenCopy();
    const fp = frozen.fingerprint();
    const before = frozen.valuesSync();
    expect(fp).toBe(policy.fingerprint());
    expect([...frozen.params.values()].every((v) => !v.trainable)).toBe(true);

    const step = createTrainStep({ model: policy, optimizer: new AdamW({ lr: 1e-2, weightDecay: 0.1 }), transforms: [] });
    for (let i = 0; i < 5; i++) step(randomBatch(i, 2, 8, 23));

    expect(policy.fingerprint()).not.toBe(fp);
    for (const [path, data] of frozen.valuesSync()) expect(Buffer.from(data.buffer).equals(Buffer.from(before.get(path)!.buffer))).toBe(true);
    // Re-hashed from the weights now, not the fingerprint cached at copy time.
    expect(fingerprintOf(frozen.valuesSync())).toBe(fp);
    expect(frozen.fingerprint()).toBe(fp);
    policy.dispose();
    frozen.dispose();
  });

  it('cannot be trained or updated', () => {
    const frozen = tinyModel().frozenCopy();
    expect(() => createTrainStep({ model: frozen, optimizer: new AdamW({ lr: 1 }), transforms: [] })).toThrow(/frozen copy/);
    const g = { 'embed.W_E': tf.zerosLike(frozen.params.get('embed.W_E')!) };
    expect(() => new AdamW({ lr: 1 }).apply(frozen.params, g)).toThrow(/not trainable/);
    frozen.dispose();
  });
});
