/**
 * RMSNorm, SwiGLU and rotary embedding as single ops with hand-written gradients, for the
 * Llama-style families (models/layers.ts). Each forward pass is the composed ops'
 * own sequence (the same values, bit for bit); what changes is what the tape keeps for the
 * backward pass. tfjs's autodiff of the compositions saved every intermediate an op's
 * gradient reads: RMSNorm kept x² and x·rsqrt(…) beside x, SwiGLU kept σ(gate) and
 * gate·σ(gate) beside gate and up, RoPE kept its halves, rotations and products. Per token
 * and block of the SmolLM2-135M shape that was about 8,400 floats of 22,700; these keep x and
 * one scale per row, gate and up, and nothing but the cos/sin tables (test/backend/fused-decoder.test.ts).
 * The key/value repeat of grouped-query attention is one op too, for speed: tfjs-wasm's Tile
 * is a scalar loop (about 130 ms for one SmolLM2 layer's keys at 512 tokens, under load), a
 * Concat of the same copies about 17.
 */
import * as tf from '@tensorflow/tfjs';
import { withGrad } from './grad.ts';
import { sumRows } from './matmul.ts';

/** True for a weight no optimizer updates: its gradient is not worth forming. */
function frozen(w: tf.Tensor): boolean {
  return w instanceof tf.Variable && !w.trainable;
}

/** x·rsqrt(mean(x²) + eps)·w over the last axis, or ·(1 + w) with `plusOne` (Gemma); x [..., D], w [D]. */
export function rmsNormOp(x: tf.Tensor, w: tf.Tensor1D, eps: number, plusOne = false): tf.Tensor {
  const D = x.shape[x.rank - 1]!;
  const trainW = !frozen(w);
  const op = withGrad(([xin, win], save) => {
    const weight = (win ?? w) as tf.Tensor1D; // a variable: alive in the backward pass
    const scaleOf = () => (plusOne ? tf.add(weight, 1) : weight); // ∂(1 + w)/∂w = 1: the same dw
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xin!), -1, true), eps)); // [..., 1]
    save([xin!, r]);
    return {
      value: tf.mul(tf.mul(xin!, r), scaleOf()),
      gradFunc: (dy, saved) => {
        const [xs, rs] = saved as [tf.Tensor, tf.Tensor];
        // dx = r·(g − x·r²·mean(g·x)), g = dy·w; dw = Σ_rows dy·x·r.
        const g = tf.mul(dy, scaleOf());
        const dx = tf.mul(rs, tf.sub(g, tf.mul(xs, tf.mul(tf.square(rs), tf.mean(tf.mul(g, xs), -1, true)))));
        if (!trainW) return [dx];
        return [dx, sumRows(tf.reshape(tf.mul(dy, tf.mul(xs, rs)), [-1, D]) as tf.Tensor2D)];
      },
    };
  });
  return trainW ? op(x, w) : op(x);
}

/** SiLU(gate)·up, elementwise: the gated half of a SwiGLU MLP. */
export function swigluOp(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  const op = withGrad(([g, u], save) => {
    save([g!, u!]);
    return {
      value: tf.mul(tf.mul(g!, tf.sigmoid(g!)), u!),
      gradFunc: (dy, saved) => {
        const [gs, us] = saved as [tf.Tensor, tf.Tensor];
        const s = tf.sigmoid(gs);
        const silu = tf.mul(gs, s);
        // d silu/d gate = s + gate·s·(1 − s) = s·(1 + gate·(1 − s)).
        const dsilu = tf.mul(s, tf.add(1, tf.mul(gs, tf.sub(1, s))));
        return [tf.mul(tf.mul(dy, us), dsilu), tf.mul(dy, silu)];
      },
    };
  });
  return op(gate, up);
}

/**
 * Rotary embedding on the first rotaryDim dims of each head: x·cos + rotate_half(x)·sin,
 * rotate_half(x) = [−x₂, x₁] (HF's convention), dims past rotaryDim passed through.
 * x [B, T, H, dh]; cos, sin [T, rot] or [B, T, rot]. Its backward is the transposed rotation,
 * from the tables alone.
 */
export function ropeOp(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  const [B, T, H, dh] = x.shape;
  const rot = cos.shape[cos.rank - 1]!;
  const half = rot / 2;
  const lead = cos.rank === 3 ? B : 1;
  const split = (t: tf.Tensor, n: number) => [tf.slice(t, [0, 0, 0, 0], [B, T, H, n]), tf.slice(t, [0, 0, 0, n], [B, T, H, -1])];
  // The tables are constants (no gradient), saved because the forward's own die before the backward.
  const op = withGrad(([xin], save) => {
    save([cos, sin]);
    const c = tf.reshape(cos, [lead, T, 1, rot]);
    const s = tf.reshape(sin, [lead, T, 1, rot]);
    const [xr, pass] = rot === dh ? [xin!, undefined] : split(xin!, rot);
    const [x1, x2] = split(xr!, half);
    const rotated = tf.add(tf.mul(xr!, c), tf.mul(tf.concat([tf.neg(x2!), x1!], 3), s));
    return {
      value: pass ? tf.concat([rotated, pass], 3) : rotated,
      gradFunc: (dy, saved) => {
        const cs = tf.reshape(saved[0]!, [lead, T, 1, rot]);
        const ss = tf.reshape(saved[1]!, [lead, T, 1, rot]);
        const [dr, dpass] = rot === dh ? [dy, undefined] : split(dy, rot);
        // y₁ = x₁c₁ − x₂s₁, y₂ = x₂c₂ + x₁s₂ ⇒ dx₁ = dy₁c₁ + dy₂s₂, dx₂ = dy₂c₂ − dy₁s₁.
        const ds = tf.mul(dr!, ss);
        const [ds1, ds2] = split(ds, half);
        const dxr = tf.add(tf.mul(dr!, cs), tf.concat([ds2!, tf.neg(ds1!)], 3));
        return [dpass ? tf.concat([dxr, dpass], 3) : dxr];
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/**
 * [B, T, KV, dh] → [B, T, KV·nRep, dh]: key/value head j copied to query heads j·nRep …
 * (j+1)·nRep − 1. Forward: nRep copies concatenated (the values tf.tile gives); backward: the
 * copies' gradients summed (tf.tile's gradient, the sums in another order on some backends).
 */
export function repeatHeadsOp(x: tf.Tensor4D, nRep: number): tf.Tensor4D {
  const [B, T, KV, dh] = x.shape;
  const op = withGrad(([xin]) => {
    const one = tf.reshape(xin!, [B * T, KV, 1, dh]);
    return {
      value: tf.reshape(tf.concat(Array.from({ length: nRep }, () => one), 2), [B, T, KV * nRep, dh]),
      gradFunc: (dy) => [tf.reshape(tf.sum(tf.reshape(dy, [B * T, KV, nRep, dh]), 2), [B, T, KV, dh])],
    };
  });
  return op(x) as tf.Tensor4D;
}
