import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../src/trainer/index.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** torch.optim.AdamW's update, written out in plain JS for one scalar. */
function torchAdamW(p: number, grads: number[], lr: number, b1: number, b2: number, eps: number, wd: number): number {
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps;
    p -= (lr / (1 - b1 ** t)) * (m / denom);
  });
  return p;
}

describe('AdamW', () => {
  it('matches torch.optim.AdamW step for step, decaying matrices but not vectors', () => {
    const params = new Map<string, tf.Variable>([
      ['w', tf.variable(tf.tensor2d([[0.5, -1.5]]))],
      ['b', tf.variable(tf.tensor1d([2.0]))],
    ]);
    const opt = new AdamW({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.2 });
    const gw = [[0.3, -0.2], [-0.1, 0.4], [0.25, 0.05]];
    const gb = [1.0, -0.5, 0.2];
    for (let i = 0; i < 3; i++) {
      opt.apply(params, { w: tf.tensor2d([gw[i]!]), b: tf.tensor1d([gb[i]!]) });
    }
    const w = params.get('w')!.dataSync();
    expect(w[0]).toBeCloseTo(torchAdamW(0.5, gw.map((g) => g[0]!), 0.1, 0.9, 0.99, 1e-8, 0.2), 5);
    expect(w[1]).toBeCloseTo(torchAdamW(-1.5, gw.map((g) => g[1]!), 0.1, 0.9, 0.99, 1e-8, 0.2), 5);
    expect(params.get('b')!.dataSync()[0]).toBeCloseTo(torchAdamW(2.0, gb, 0.1, 0.9, 0.99, 1e-8, 0), 5);
    expect(opt.t).toBe(3);
  });

  it('saves and restores its state exactly, and refuses a mis-shaped one', () => {
    const params = new Map<string, tf.Variable>([['w', tf.variable(tf.tensor2d([[1, 2]]))]]);
    const a = new AdamW({ lr: 0.1 });
    a.apply(params, { w: tf.tensor2d([[0.1, 0.2]]) });
    const state = a.stateSync();
    const b = new AdamW({ lr: 0.1 });
    b.loadState(params, state);
    expect(b.stateSync()).toEqual(state);
    const bad = { t: 1, tensors: new Map([['m.w', { shape: [2, 1], data: new Float32Array(2) }]]) };
    expect(() => b.loadState(params, bad)).toThrow(/"m.w" has shape \[2,1\] but the parameter has \[1,2\]/);
    expect(() => b.loadState(params, { t: 1, tensors: new Map([['m.nope', { shape: [1], data: new Float32Array(1) }]]) })).toThrow(/matches no parameter/);
  });
});
