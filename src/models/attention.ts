/**
 * The attention core every family shares (GPT-2 and the Hugging Face decoders): grouped
 * key/value heads repeated to the query heads, the causal mask, softmax, the weighted sum,
 * and the `attn.hook_pattern` hook. It is the one place a key/value cache and a position
 * offset belong: keys and values arrive here already projected (and rotated), so a cache
 * stores them per key/value head and a cached step attends over them without the repeat
 * (attendCached).
 */
import * as tf from '@tensorflow/tfjs';
import { attention, bmm, wasmSlowProducts } from '../backend/ops.ts';
import { repeatKv, softcap } from './layers.ts';
import type { HookRunner } from './hooks.ts';
import { permuted, type KVCache, type KvStep } from './kv-cache.ts';

/** A forward against a key/value cache: the cache to extend and this step's positions and mask. */
export interface KvContext {
  cache: KVCache;
  step: KvStep;
}

/** How a layer attends beyond the causal mask: soft-capped scores (Gemma 2), a sliding window (its size). */
export interface AttendOptions {
  softcap?: number;
  window?: number;
}

/**
 * q [B, T, H, dh]; k, v [B, T, KV, dh] with KV dividing H (key/value head j serves query heads
 * j·H/KV … (j+1)·H/KV − 1); mask [T, T] additive (0 allowed, −1e9 masked; the layer's own, a
 * sliding window included). Returns z [B, T, H, dh]. `patternHook` is the block's
 * `attn.hook_pattern` name: when a hook or the cache wants it, or scores are soft-capped, the
 * explicit path runs (same math; the fused op never materialises the pattern).
 */
export function attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hooks: HookRunner, patternHook: string, layer: number, kv?: KvContext, opts: AttendOptions = {}): tf.Tensor4D {
  if (kv) {
    // Cached: this layer's new keys/values join the cache; queries [B, Tq] attend over all S + Tq slots.
    const [keys, values] = kv.cache.extend(layer, k, v); // [dh, B, KV, S + Tq], [S + Tq, B, KV, dh]
    const stepMask = opts.window === undefined ? kv.step.mask : kv.step.windowMask(opts.window);
    return attendCached(q, keys, values, stepMask, scale, hooks, patternHook, layer, opts.softcap);
  }
  const nRep = q.shape[2] / k.shape[2];
  const [kFull, vFull] = [repeatKv(k, nRep), repeatKv(v, nRep)]; // [B, T, H, dh]
  return hooks.wants(patternHook) || opts.softcap !== undefined
    ? explicitAttention(q, kFull, vFull, mask, scale, patternHook, layer, hooks, opts.softcap)
    : attention(q, kFull, vFull, mask, scale); // [B, T, H, dh]
}

/**
 * Attention of new queries q [B, Tq, H, dh] over a layer's cache, keys [dh, B, KV, S] and
 * values [S, B, KV, dh] (kv-cache.ts's layout), mask [Tq·B, S] (query-major). Returns z
 * [B, Tq, H, dh].
 *
 * Grouped-query attention without repeating the cache: query head h = j·g + i (g = H/KV)
 * reads key/value head j, so the g·Tq queries of one (row, key/value head) pair form one
 * group of G = B·KV, and the step is two grouped products: scores [g·Tq, G, S] from q and the
 * keys, then z [g·Tq, G, dh] from the pattern and the values. A decode step (Tq = 1)
 * transposes only its own token's numbers. The pattern hook sees [B, H, Tq, S], slots holding
 * other rows' padding included with weight 0.
 */
function attendCached(q: tf.Tensor4D, keys: tf.Tensor4D, values: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hooks: HookRunner, hook: string, layer: number, cap?: number): tf.Tensor4D {
  const [B, Tq, H, dh] = q.shape;
  const [, , KV, S] = keys.shape;
  const g = H / KV;
  const G = B * KV;
  const qIn = tf.reshape(permuted(tf.reshape(q, [B, Tq, KV, g, dh]), [3, 1, 4, 0, 2]), [g * Tq, dh, G]); // [g·Tq, dh, G]
  const scores = tf.reshape(groupedProduct(qIn, tf.reshape(keys, [dh, G, S]) as tf.Tensor3D), [g, Tq * B, KV, S]); // [g, Tq·B, KV, S]
  let p = tf.softmax(tf.add(capped(tf.mul(scores, scale), cap), tf.reshape(mask, [1, Tq * B, 1, S]))); // [g, Tq·B, KV, S]
  if (hooks.wants(hook)) {
    // [g, Tq, B, KV, S] ↔ [B, KV, g, Tq, S] = [B, H, Tq, S] (the permutation is its own inverse).
    const pattern = tf.reshape(permuted(tf.reshape(p, [g, Tq, B, KV, S]), [2, 3, 0, 1, 4]), [B, H, Tq, S]);
    p = permuted(tf.reshape(hooks.run(hook, pattern, layer), [B, KV, g, Tq, S]), [2, 3, 0, 1, 4]);
  }
  const pIn = tf.reshape(permuted(tf.reshape(p, [g * Tq, G, S]), [0, 2, 1]), [g * Tq, S, G]); // [g·Tq, S, G]
  const z = groupedProduct(pIn, tf.reshape(values, [S, G, dh]) as tf.Tensor3D); // [g·Tq, G, dh] = [g, Tq, B, KV, dh]
  return tf.reshape(permuted(tf.reshape(z, [g, Tq, B, KV, dh]), [2, 1, 3, 0, 4]), [B, Tq, H, dh]) as tf.Tensor4D;
}

/**
 * G products at once: input [M, K, G] and filter [K, G, N] → [M, G, N], out[m, g, n] =
 * Σ_k input[m, k, g]·filter[k, g, n]. On wasm one grouped convolution (see backend/matmul.ts:
 * XNNPACK runs it as a GEMM per group, where a batched product would be a scalar loop); elsewhere
 * a batched matMul.
 */
function groupedProduct(input: tf.Tensor, filter: tf.Tensor3D): tf.Tensor3D {
  const [M, K, G] = input.shape as [number, number, number];
  const N = filter.shape[2];
  if (wasmSlowProducts()) {
    const out = tf.depthwiseConv2d(tf.reshape(input, [M, 1, K, G]) as tf.Tensor4D, tf.reshape(filter, [1, K, G, N]) as tf.Tensor4D, 1, 'valid'); // [M, 1, 1, G·N]
    return tf.reshape(out, [M, G, N]);
  }
  const prod = tf.matMul(tf.transpose(input, [2, 0, 1]) as tf.Tensor3D, tf.transpose(filter, [1, 0, 2]) as tf.Tensor3D); // [G, M, N]
  return tf.transpose(prod, [1, 0, 2]) as tf.Tensor3D;
}

/**
 * q [B, T, H, dh]; k, v [B, T, H, dh]; mask [T, T]. The pattern hook sees [B, H, T, T].
 */
function explicitAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hook: string, i: number, hooks: HookRunner, cap?: number): tf.Tensor4D {
  const [B, T, H, dh] = q.shape;
  const Tk = k.shape[1];
  const toBatched = (t: tf.Tensor, n: number) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * H, n, dh]);
  const raw = tf.reshape(tf.mul(bmm(toBatched(q, T), toBatched(k, Tk), true), scale), [B, H, T, Tk]);
  const pattern = hooks.run(hook, tf.softmax(tf.add(capped(raw, cap), mask)), i); // [B, H, Tq, Tk]
  const z = tf.reshape(bmm(tf.reshape(pattern, [B * H, T, Tk]), toBatched(v, Tk)), [B, H, T, dh]);
  return tf.transpose(z, [0, 2, 1, 3]) as tf.Tensor4D; // [B, T, H, dh]
}

/** Scores soft-capped before the mask, as Gemma 2 does (cap·tanh(s / cap)); unchanged without a cap. */
function capped(scores: tf.Tensor, cap?: number): tf.Tensor {
  return cap === undefined ? scores : softcap(scores, cap);
}
