import * as tf from '@tensorflow/tfjs';
import { withGrad } from './grad.ts';
import { wasmSlowProducts } from './matmul.ts';
import { blasAttention, blasAttentionAvailable } from './blas-attention.ts';

/**
 * Multi-head attention core, z = softmax(q·kᵀ·scale + mask)·v, on the projections' own
 * layout [B, T, H, dh] (TransformerLens's hook_q/k/v/z layout), with its gradient.
 *
 * On wasm the batched products are grouped convolutions (see matmul.ts). Written as one
 * op, every operand is transposed once straight into the layout its convolution reads,
 * instead of into [B·H, T, dh] and then again inside each product: 16 transposes per
 * layer (forward + backward) instead of 30, and no separate head reshuffles.
 * With its products on the platform's BLAS, wasm runs blas-attention.ts (no transposes at
 * all). Elsewhere it is the plain composition.
 */

type T4 = tf.Tensor4D;

/** depthwiseConv2d(input [M, 1, K, G], filter [1, K, G, N]) → [M, G·N]: G products [M,K]·[K,N]. */
function grouped(input: tf.Tensor, filter: tf.Tensor, M: number, K: number, G: number, N: number): tf.Tensor {
  return tf.depthwiseConv2d(tf.reshape(input, [M, 1, K, G]) as T4, tf.reshape(filter, [1, K, G, N]) as T4, 1, 'valid');
}

/**
 * q, k, v: [B, T, H, dh]; mask: additive [T, T] (e.g. 0 / −1e9 causal), not differentiated.
 * Returns z: [B, T, H, dh].
 */
export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number): tf.Tensor4D {
  if (blasAttentionAvailable()) return blasAttention(q, k, v, mask, scale);
  if (!wasmSlowProducts()) return plainAttention(q, k, v, mask, scale);
  const [B, T, H, dh] = q.shape;
  const G = B * H; // g = b·H + h, the group (one head of one sequence)
  const op = withGrad(([qin, kin, vin], save) => {
    // Scores: s[i, g, j] = Σ_d q[i, d, g]·k[d, g, j].
    const s = grouped(tf.transpose(qin!, [1, 3, 0, 2]), tf.transpose(kin!, [3, 0, 2, 1]), T, dh, G, T);
    const p = tf.softmax(tf.add(tf.mul(tf.reshape(s, [T, G, T]), scale), tf.reshape(mask, [T, 1, T]))); // [i, g, j]
    // z[i, g, d] = Σ_j p[i, j, g]·v[j, g, d].
    const z = grouped(tf.transpose(p, [0, 2, 1]), tf.transpose(vin!, [1, 0, 2, 3]), T, T, G, dh);
    save([qin!, kin!, vin!, p]);
    return {
      value: tf.transpose(tf.reshape(z, [T, B, H, dh]), [1, 0, 2, 3]),
      gradFunc: (dz, saved) => {
        const [qs, ks, vs, ps] = saved as [T4, T4, T4, tf.Tensor3D];
        const dzi = tf.reshape(tf.transpose(dz, [1, 0, 2, 3]), [T, G, dh]); // [i, g, d]
        // dp[i, g, j] = Σ_d dz[i, d, g]·v[d, g, j]; dv[j, g, d] = Σ_i p[j, i, g]·dz[i, g, d].
        const dp = tf.reshape(grouped(tf.transpose(dzi, [0, 2, 1]), tf.transpose(vs, [3, 0, 2, 1]), T, dh, G, T), [T, G, T]);
        const dv = grouped(tf.transpose(ps, [2, 0, 1]), dzi, T, T, G, dh);
        // Softmax backward, then the scale: ds = p·(dp − Σ_j dp·p)·scale.
        const ds = tf.mul(tf.mul(ps, tf.sub(dp, tf.sum(tf.mul(dp, ps), -1, true))), scale); // [i, g, j]
        // dq[i, g, d] = Σ_j ds[i, j, g]·k[j, g, d]; dk[j, g, d] = Σ_i ds[j, i, g]·q[i, g, d].
        const dq = grouped(tf.transpose(ds, [0, 2, 1]), tf.transpose(ks, [1, 0, 2, 3]), T, T, G, dh);
        const dk = grouped(tf.transpose(ds, [2, 0, 1]), tf.transpose(qs, [1, 0, 2, 3]), T, T, G, dh);
        const back = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [T, B, H, dh]), [1, 0, 2, 3]);
        return [back(dq), back(dk), back(dv)];
      },
    };
  });
  return op(q, k, v) as tf.Tensor4D;
}

/** The same computation in plain ops (tfjs-node, cpu; and the reference in tests). */
export function plainAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number): tf.Tensor4D {
  return tf.tidy(() => {
    const heads = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [B, H, T, dh]
    const s = tf.add(tf.mul(tf.matMul(heads(q) as T4, heads(k) as T4, false, true), scale), mask);
    return tf.transpose(tf.matMul(tf.softmax(s), heads(v) as T4), [0, 2, 1, 3]) as T4;
  });
}
