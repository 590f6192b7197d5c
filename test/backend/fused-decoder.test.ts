import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { repeatHeadsOp, ropeOp, rmsNormOp, swigluOp } from '../../src/backend/fused-decoder.ts';
import { ropeInvFreq, ropeTables, ropeTablesAt } from '../../src/models/layers.ts';
import { expectClose } from '../helpers/compare.ts';
import { tinyLlamaConfig, useCpu } from '../helpers/tiny.ts';
import type { DecoderConfig } from '../../src/models/families/family.ts';
import { Rng } from '../../src/util/rng.ts';

beforeAll(useCpu);

const rand = (seed: number, shape: number[]) => {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.next() - 1), shape);
};

/** Value and gradients for `inputs` of Σ dy ⊙ f(inputs), read back. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], dySeed = 9) {
  return tf.tidy(() => {
    const y = f(...inputs);
    const dy = rand(dySeed, y.shape);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), dy)))(inputs);
    return { y: Array.from(y.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

/** Shapes of the tensors the tape keeps for f's backward pass (a recording tape, then dropped). */
function savedShapes(f: () => tf.Tensor): string[] {
  const engine = tf.engine() as unknown as { startTape(): void; endTape(): void; state: { activeTape: { saved?: tf.Tensor[] }[] | null } };
  engine.startTape();
  const y = tf.tidy(f);
  engine.endTape();
  const shapes = (engine.state.activeTape ?? []).flatMap((n) => (n.saved ?? []).map((t) => t.shape.join('×')));
  for (const n of engine.state.activeTape ?? []) tf.dispose(n.saved ?? []);
  engine.state.activeTape = null;
  y.dispose();
  return shapes;
}

const composedRms = (x: tf.Tensor, w: tf.Tensor, eps: number) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
const composedSwiglu = (g: tf.Tensor, u: tf.Tensor) => tf.mul(tf.mul(g, tf.sigmoid(g)), u);
function composedRope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [B, T, H, dh] = x.shape;
  const rot = cos.shape[cos.rank - 1]!;
  const half = rot / 2;
  const lead = cos.rank === 3 ? B : 1;
  const c = tf.reshape(cos, [lead, T, 1, rot]);
  const s = tf.reshape(sin, [lead, T, 1, rot]);
  const xr = rot === dh ? x : tf.slice(x, [0, 0, 0, 0], [B, T, H, rot]);
  const x1 = tf.slice(xr, [0, 0, 0, 0], [B, T, H, half]);
  const x2 = tf.slice(xr, [0, 0, 0, half], [B, T, H, half]);
  const rotated = tf.add(tf.mul(xr, c), tf.mul(tf.concat([tf.neg(x2), x1], 3), s));
  return rot === dh ? rotated : tf.concat([rotated, tf.slice(x, [0, 0, 0, rot], [B, T, H, dh - rot])], 3);
}

describe('fused decoder ops: the composed forward, a leaner backward', () => {
  it('RMSNorm: same values, gradients for x and w as autodiff; keeps x and one scale per row; no w gradient when w is frozen', () => {
    const x = rand(1, [2, 3, 8]);
    const w = rand(2, [8]);
    const got = valueAndGrads((a, b) => rmsNormOp(a!, b as tf.Tensor1D, 1e-5), [x, w]);
    const want = valueAndGrads((a, b) => composedRms(a!, b!, 1e-5), [x, w]);
    expect(got.y).toEqual(want.y);
    expectClose(got.grads[0]!, want.grads[0]!, 1e-5, 'dx');
    expectClose(got.grads[1]!, want.grads[1]!, 1e-5, 'dw');
    expect(savedShapes(() => rmsNormOp(x, w as tf.Tensor1D, 1e-5)).sort()).toEqual(['2×3×1', '2×3×8']);
    const frozen = tf.variable(w, false);
    const dx = valueAndGrads((a) => rmsNormOp(a!, frozen as tf.Tensor1D, 1e-5), [x]);
    expectClose(dx.grads[0]!, want.grads[0]!, 1e-5, 'dx, frozen w');
    // Gemma's ·(1 + w): the same op, the same dw.
    const one = valueAndGrads((a, b) => rmsNormOp(a!, b as tf.Tensor1D, 1e-6, true), [x, w]);
    const oneWant = valueAndGrads((a, b) => composedRms(a!, tf.add(b!, 1), 1e-6), [x, w]);
    expect(one.y).toEqual(oneWant.y);
    expectClose(one.grads[0]!, oneWant.grads[0]!, 1e-5, 'dx, 1 + w');
    expectClose(one.grads[1]!, oneWant.grads[1]!, 1e-5, 'dw, 1 + w');
    tf.dispose([x, w, frozen]);
  });

  it('SwiGLU: same values and gradients; keeps gate and up only', () => {
    const g = rand(3, [4, 6]);
    const u = rand(4, [4, 6]);
    const got = valueAndGrads((a, b) => swigluOp(a!, b!), [g, u]);
    const want = valueAndGrads((a, b) => composedSwiglu(a!, b!), [g, u]);
    expect(got.y).toEqual(want.y);
    got.grads.forEach((gr, i) => expectClose(gr, want.grads[i]!, 1e-5, `grad ${i}`));
    expect(savedShapes(() => swigluOp(g, u))).toEqual(['4×6', '4×6']);
    tf.dispose([g, u]);
  });

  it('the grouped-query repeat: tf.tile’s values and gradient (its sums in another order); keeps nothing', () => {
    const x = rand(6, [2, 3, 2, 4]) as tf.Tensor4D;
    const tiled = (a: tf.Tensor) => tf.reshape(tf.tile(tf.reshape(a, [6, 2, 1, 4]), [1, 1, 3, 1]), [2, 3, 6, 4]);
    const got = valueAndGrads((a) => repeatHeadsOp(a as tf.Tensor4D, 3), [x]);
    const want = valueAndGrads((a) => tiled(a!), [x]);
    expect(got.y).toEqual(want.y);
    expectClose(got.grads[0]!, want.grads[0]!, 1e-6, 'dx');
    expect(savedShapes(() => repeatHeadsOp(x, 3))).toEqual([]);
    x.dispose();
  });

  const partial: DecoderConfig = { ...tinyLlamaConfig, rope: { theta: 10000, rotaryDim: 2 } };
  for (const [name, config] of [['full rotary', tinyLlamaConfig], ['partial rotary', partial]] as const) {
    it(`RoPE (${name}): same values and gradient, at 0…T−1 and at per-row positions; keeps only the tables`, () => {
      const { dHead: dh } = config;
      const x = rand(5, [2, 3, 2, dh]) as tf.Tensor4D;
      const inv = ropeInvFreq(config.rope!);
      for (const { cos, sin } of [ropeTables(inv, 3), ropeTablesAt(inv, Int32Array.from([4, 5, 6, 0, 1, 2]), 2, 3)]) {
        const got = valueAndGrads((a) => ropeOp(a as tf.Tensor4D, cos, sin), [x]);
        const want = valueAndGrads((a) => composedRope(a as tf.Tensor4D, cos, sin), [x]);
        expect(got.y).toEqual(want.y);
        expectClose(got.grads[0]!, want.grads[0]!, 1e-6, 'dx');
        expect(savedShapes(() => ropeOp(x, cos, sin))).toEqual([cos.shape.join('×'), sin.shape.join('×')]);
        tf.dispose([cos, sin]);
      }
      x.dispose();
    });
  }
});
