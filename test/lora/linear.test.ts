import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { frozenLinear } from '../../src/backend/ops.ts';
import { loraLinear } from '../../src/lora/linear.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose, lossAndGradsOf, withNonzeroAdapters } from '../helpers/compare.ts';
import { randomBatch, tinyFamilyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
afterAll(useCpu);

const [N, IN, OUT, R, S] = [5, 7, 6, 3, 1.75];

function values(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

const data = { x: values(1, N * IN), W: values(2, IN * OUT), b: values(3, OUT), A: values(4, R * IN), B: values(5, OUT * R), dy: values(6, N * OUT) };

/** Value and gradients (x, A, B) of Σ dy ⊙ f(x, A, B), read back to JS. */
function valueAndGrads(f: (x: tf.Tensor2D, A: tf.Tensor2D, B: tf.Tensor2D) => tf.Tensor2D) {
  return tf.tidy(() => {
    const [x, A, B] = [tf.tensor2d(data.x, [N, IN]), tf.tensor2d(data.A, [R, IN]), tf.tensor2d(data.B, [OUT, R])];
    const dy = tf.tensor2d(data.dy, [N, OUT]);
    const y = f(x, A, B);
    const grads = tf.grads((xx: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor2D, aa as tf.Tensor2D, bb as tf.Tensor2D), dy)))([x, A, B]);
    return { y: Array.from(y.dataSync()), dx: Array.from(grads[0]!.dataSync()), dA: Array.from(grads[1]!.dataSync()), dB: Array.from(grads[2]!.dataSync()) };
  });
}

/** The same layer composed from plain tf ops (tfjs's own autodiff): x·W + b + s·x·Aᵀ·Bᵀ. */
const composed = (bias: boolean) => (x: tf.Tensor2D, A: tf.Tensor2D, B: tf.Tensor2D) => {
  const W = tf.tensor2d(data.W, [IN, OUT]);
  const base = tf.matMul(x, W);
  const y = tf.add(bias ? tf.add(base, tf.tensor1d(data.b)) : base, tf.mul(tf.matMul(tf.matMul(x, A, false, true), B, false, true), S));
  return y as tf.Tensor2D;
};

describe('loraLinear: x·W (+ b) + s·(x·Aᵀ)·Bᵀ with W frozen', () => {
  let W: tf.Tensor2D;
  let b: tf.Tensor1D;
  beforeAll(async () => {
    await useCpu();
    W = tf.tensor2d(data.W, [IN, OUT]);
    b = tf.tensor1d(data.b);
  });
  for (const bias of [false, true]) {
    const lora = (x: tf.Tensor2D, A: tf.Tensor2D, B: tf.Tensor2D) => loraLinear(x, W, bias ? b : undefined, A, B, S);

    it(`value and gradients for x, A and B equal tfjs-cpu's autodiff of the composed ops${bias ? ' (with a bias)' : ''}`, () => {
      const got = valueAndGrads(lora);
      const want = valueAndGrads(composed(bias));
      for (const k of ['y', 'dx', 'dA', 'dB'] as const) expectClose(got[k], want[k], 1e-6, k);
    });

    it(`gradients agree with central finite differences in float64${bias ? ' (with a bias)' : ''}`, () => {
      const got = valueAndGrads(lora);
      // Σ dy ⊙ (x·W + b + s·x·Aᵀ·Bᵀ) in float64, from the same numbers.
      const loss = (x: Float32Array | Float64Array, A: Float32Array | Float64Array, B: Float32Array | Float64Array) => {
        let total = 0;
        for (let n = 0; n < N; n++) {
          const u = Array.from({ length: R }, (_, j) => { let s = 0; for (let i = 0; i < IN; i++) s += x[n * IN + i]! * A[j * IN + i]!; return s; });
          for (let o = 0; o < OUT; o++) {
            let y = bias ? data.b[o]! : 0;
            for (let i = 0; i < IN; i++) y += x[n * IN + i]! * data.W[i * OUT + o]!;
            for (let j = 0; j < R; j++) y += S * u[j]! * B[o * R + j]!;
            total += data.dy[n * OUT + o]! * y;
          }
        }
        return total;
      };
      const h = 1e-3;
      for (const [name, key] of [['x', 'dx'], ['A', 'dA'], ['B', 'dB']] as const) {
        const base = Float64Array.from(data[name]);
        for (const i of [0, 4, base.length - 1]) {
          const at = (d: number) => {
            const v = Float64Array.from(base);
            v[i] = v[i]! + d;
            return loss(name === 'x' ? v : data.x, name === 'A' ? v : data.A, name === 'B' ? v : data.B);
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(got[key][i]! - fd), `${key}[${i}]: ${got[key][i]} vs ${fd}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
        }
      }
    });
  }

  it('takes no gradient for W: no product in the forward or backward has W’s shape, and W is no input of the op', async () => {
    const x = tf.tensor2d(data.x, [N, IN]);
    const A = tf.variable(tf.tensor2d(data.A, [R, IN]));
    const B = tf.variable(tf.tensor2d(data.B, [OUT, R]));
    const Wv = tf.variable(tf.tensor2d(data.W, [IN, OUT]), false);
    const outputs = async (f: () => tf.Tensor) => {
      const p = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, [A, B]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return p.kernels.filter((k) => /MatMul/.test(k.name)).map((k) => k.outputShapes[0]!.join('×'));
    };
    const factored = await outputs(() => loraLinear(x, Wv, undefined, A, B, S));
    expect(factored.length).toBe(3 + 5); // forward: base, x·Aᵀ, u·Bᵀ; backward: dy·B, dyᵀ·u, duᵀ·x, dy·Wᵀ, du·A
    expect(factored).not.toContain(`${IN}×${OUT}`);
    // The merged form this replaces forms ΔW [in, out] forward and W's gradient [in, out] backward.
    const merged = await outputs(() => tf.matMul(x, tf.add(Wv, tf.mul(tf.matMul(A, B, true, true), S))));
    expect(merged.filter((s) => s === `${IN}×${OUT}`).length).toBeGreaterThanOrEqual(2);
    // frozenLinear, an untargeted layer under LoRA: forward x·W, backward dy·Wᵀ only.
    const frozen = await (async () => {
      const p = await tf.profile(() => tf.tidy(() => tf.grads((xx: tf.Tensor) => tf.sum(frozenLinear(xx as tf.Tensor2D, Wv)))([x])));
      return p.kernels.filter((k) => /MatMul/.test(k.name)).map((k) => k.outputShapes[0]!.join('×'));
    })();
    expect(frozen).toEqual([`${N}×${OUT}`, `${N}×${IN}`]);
    tf.dispose([x, A, B, Wv]);
  });

  it('on wasm equals tfjs-cpu (values and gradients)', async () => {
    const cpu = valueAndGrads((x, A, B) => loraLinear(x, W, b, A, B, S));
    await initBackend('wasm');
    try {
      const Ww = tf.tensor2d(data.W, [IN, OUT]);
      const bw = tf.tensor1d(data.b);
      const wasm = valueAndGrads((x, A, B) => loraLinear(x, Ww, bw, A, B, S));
      tf.dispose([Ww, bw]);
      for (const k of ['y', 'dx', 'dA', 'dB'] as const) expectClose(wasm[k], cpu[k], 1e-5, k);
    } finally {
      await useCpu();
    }
  });
});

describe('a model under LoRA runs the factored layer', () => {
  it('gives the merged weights’ loss and adapter gradients, with the tensor count flat', () => {
    const model = tinyFamilyModel(3);
    const adapters = withNonzeroAdapters(model, ['blocks.0.attn.W_Q', 'blocks.0.attn.W_K', 'blocks.1.mlp.W_gate', 'blocks.1.mlp.W_out', 'unembed.W_U']);
    const batch = randomBatch(2, 2, 8, model.config.vocabSize);
    const run = () => lossAndGradsOf(model, () => lmLoss(model, batch));
    const factored = run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    const linear = model.linearTransform;
    model.linearTransform = undefined; // every layer reads W + s·(B·A)ᵀ through the weight transform
    const merged = run();
    model.linearTransform = linear;
    expect(factored.loss).toBeCloseTo(merged.loss, 5);
    expect(Object.keys(factored.grads).sort()).toEqual(Object.keys(merged.grads).sort());
    for (const k of Object.keys(merged.grads)) expectClose(factored.grads[k]!, merged.grads[k]!, 1e-4, k);
    model.dispose();
    adapters.dispose();
  });
});
