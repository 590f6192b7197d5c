/**
 * The pieces the shared decoder builds every family from, in tfjs: the norms (LayerNorm,
 * RMSNorm with w or 1 + w), rotary position embedding (full or partial, with linear / llama3
 * frequency scaling), grouped-query key/value sharing, the MLP activations, soft-capping.
 * Shapes: x [B, T, D]; per-head q/k/v [B, T, H, dh] (TransformerLens's layout).
 */
import * as tf from '@tensorflow/tfjs';
import { gelu, layerNorm } from '../backend/ops.ts';
import type { Activation, DecoderConfig, RopeSpec } from './families/family.ts';

/** RMSNorm: x · rsqrt(mean(x²) + eps) · w over the last axis (HF computes it in float32 too); `plusOne`: · (1 + w) (Gemma). */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor1D, eps: number, plusOne = false): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), plusOne ? tf.add(w, 1) : w));
}

/** The config's norm over the last axis of x, with weight w (and bias b for LayerNorm). */
export function normalize(c: Pick<DecoderConfig, 'norm' | 'normEps' | 'normPlusOne'>, x: tf.Tensor, w: tf.Tensor1D, b?: tf.Tensor1D): tf.Tensor {
  if (c.norm === 'rms') return rmsNorm(x, w, c.normEps, c.normPlusOne);
  return layerNorm(x, w, b!, c.normEps);
}

/** The MLP's nonlinearity. */
export function activation(x: tf.Tensor, act: Activation): tf.Tensor {
  if (act === 'gelu_tanh') return gelu(x);
  if (act === 'gelu') return geluExact(x);
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** cap · tanh(x / cap): Gemma 2's soft-capping of attention scores and logits. */
export function softcap(x: tf.Tensor, cap: number): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.tanh(tf.div(x, cap)), cap));
}

/**
 * RoPE inverse frequencies 1 / θ^(2i/rotaryDim), i < rotaryDim/2, rescaled per
 * `rope.scaling` (HF modeling_rope_utils: linear divides by factor; llama3 divides the
 * long wavelengths by factor, keeps the short ones, and interpolates in between).
 * Rounded to float32 at each step as HF's float32 computation does.
 */
export function ropeInvFreq(rope: RopeSpec): Float32Array {
  const { theta, rotaryDim: dim, scaling } = rope;
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / dim))));
  if (!scaling) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: old } = scaling;
  const lowWavelen = old / lo;
  const highWavelen = old / hi;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lo) / (hi - lo);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos and sin of position·invFreq, duplicated over both halves: each [T, rotaryDim]. */
export function ropeTables(invFreq: Float32Array, T: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const [cos, sin] = ropeValues(invFreq, Int32Array.from({ length: T }, (_, t) => t));
  return { cos: tf.tensor2d(cos, [T, 2 * invFreq.length]), sin: tf.tensor2d(sin, [T, 2 * invFreq.length]) };
}

/** As ropeTables at given positions [B, T] (row-major; a KV-cache step's per-row offsets): each [B, T, rotaryDim]. */
export function ropeTablesAt(invFreq: Float32Array, positions: Int32Array, B: number, T: number): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
  const [cos, sin] = ropeValues(invFreq, positions);
  return { cos: tf.tensor3d(cos, [B, T, 2 * invFreq.length]), sin: tf.tensor3d(sin, [B, T, 2 * invFreq.length]) };
}

/** The same angles for the cached and uncached paths, so both rotate by identical numbers. */
function ropeValues(invFreq: Float32Array, positions: Int32Array): [Float32Array, Float32Array] {
  const half = invFreq.length;
  const cos = new Float32Array(positions.length * 2 * half);
  const sin = new Float32Array(positions.length * 2 * half);
  positions.forEach((t, n) => {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(t * invFreq[i]!);
      for (const j of [i, i + half]) {
        cos[n * 2 * half + j] = Math.cos(angle);
        sin[n * 2 * half + j] = Math.sin(angle);
      }
    }
  });
  return [cos, sin];
}

/**
 * Rotates the first rotaryDim dims of each head: x·cos + rotate_half(x)·sin with
 * rotate_half(x) = [−x₂, x₁] over the two halves (HF's convention, not interleaved pairs).
 * x: [B, T, H, dh]; cos/sin: [T, rotaryDim], or [B, T, rotaryDim] (per-row positions under the
 * KV cache). Dims past rotaryDim pass through (GPT-NeoX).
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => {
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
    if (rot === dh) return rotated as tf.Tensor4D;
    return tf.concat([rotated, tf.slice(x, [0, 0, 0, rot], [B, T, H, dh - rot])], 3) as tf.Tensor4D;
  });
}

/** [B, T, KV, dh] → [B, T, KV·nRep, dh]: kv head j copied to query heads j·nRep … (j+1)·nRep − 1. */
export function repeatKv(x: tf.Tensor4D, nRep: number): tf.Tensor4D {
  if (nRep === 1) return x;
  return tf.tidy(() => {
    const [B, T, KV, dh] = x.shape;
    // Tiled at rank 4 ([B·T, KV, 1, dh] → [B·T, KV, nRep, dh]): tfjs has no tile gradient at rank 5.
    const grouped = tf.tile(tf.reshape(x, [B * T, KV, 1, dh]), [1, 1, nRep, 1]);
    return tf.reshape(grouped, [B, T, KV * nRep, dh]) as tf.Tensor4D;
  });
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)) (GPT-NeoX's "gelu"; GPT-2 and Gemma use the tanh form). */
function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}
