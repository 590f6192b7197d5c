/**
 * The attention core every family shares (GPT-2 and the Hugging Face decoders): grouped
 * key/value heads repeated to the query heads, the causal mask, softmax, the weighted sum,
 * and the `attn.hook_pattern` hook. It is the one place a key/value cache and a position
 * offset belong: keys and values arrive here already projected (and rotated), so a cache
 * concatenates them along the key axis before `repeatKv`, and the mask gets an offset.
 */
import * as tf from '@tensorflow/tfjs';
import { attention, bmm } from '../backend/ops.ts';
import { repeatKv } from './families/layers.ts';
import type { HookRunner } from './hooks.ts';
import type { KVCache, KvStep } from './kv-cache.ts';

/** A forward against a key/value cache: the cache to extend and this step's positions and mask. */
export interface KvContext {
  cache: KVCache;
  step: KvStep;
}

/**
 * q [B, T, H, dh]; k, v [B, T, KV, dh] with KV dividing H (key/value head j serves query heads
 * j·H/KV … (j+1)·H/KV − 1); mask [T, T] additive (0 allowed, −1e9 masked). Returns z [B, T, H, dh].
 * `patternHook` is the block's `attn.hook_pattern` name: when a hook or the cache wants it, the
 * explicit path runs (same math; the fused op never materialises the pattern).
 */
export function attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hooks: HookRunner, patternHook: string, layer: number, kv?: KvContext): tf.Tensor4D {
  if (kv) {
    // Cached: this layer's new keys/values join the cache; queries [B, Tq] attend over all S + Tq slots.
    const [kAll, vAll] = kv.cache.extend(layer, k, v); // [B, S + Tq, KV, dh]
    const rep = q.shape[2] / k.shape[2];
    return explicitAttention(q, repeatKv(kAll, rep), repeatKv(vAll, rep), kv.step.mask, scale, patternHook, layer, hooks);
  }
  const nRep = q.shape[2] / k.shape[2];
  const [kFull, vFull] = [repeatKv(k, nRep), repeatKv(v, nRep)]; // [B, T, H, dh]
  return hooks.wants(patternHook)
    ? explicitAttention(q, kFull, vFull, mask, scale, patternHook, layer, hooks)
    : attention(q, kFull, vFull, mask, scale); // [B, T, H, dh]
}

/**
 * q [B, Tq, H, dh]; k, v [B, Tk, H, dh]; mask [Tq, Tk] or, under the cache, [B, 1, Tq, Tk].
 * The pattern hook sees [B, H, Tq, Tk] (under the cache: Tq new queries over every cached slot).
 */
function explicitAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D | tf.Tensor4D, scale: number, hook: string, i: number, hooks: HookRunner): tf.Tensor4D {
  const [B, T, H, dh] = q.shape;
  const Tk = k.shape[1];
  const toBatched = (t: tf.Tensor, n: number) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * H, n, dh]);
  const raw = tf.reshape(tf.mul(bmm(toBatched(q, T), toBatched(k, Tk), true), scale), [B, H, T, Tk]);
  const pattern = hooks.run(hook, tf.softmax(tf.add(raw, mask)), i); // [B, H, Tq, Tk]
  const z = tf.reshape(bmm(tf.reshape(pattern, [B * H, T, Tk]), toBatched(v, Tk)), [B, H, T, dh]);
  return tf.transpose(z, [0, 2, 1, 3]) as tf.Tensor4D; // [B, T, H, dh]
}
