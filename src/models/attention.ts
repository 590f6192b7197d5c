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

/**
 * q [B, T, H, dh]; k, v [B, T, KV, dh] with KV dividing H (key/value head j serves query heads
 * j·H/KV … (j+1)·H/KV − 1); mask [T, T] additive (0 allowed, −1e9 masked). Returns z [B, T, H, dh].
 * `patternHook` is the block's `attn.hook_pattern` name: when a hook or the cache wants it, the
 * explicit path runs (same math; the fused op never materialises the pattern).
 */
export function attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hooks: HookRunner, patternHook: string, layer: number): tf.Tensor4D {
  const nRep = q.shape[2] / k.shape[2];
  const [kFull, vFull] = [repeatKv(k, nRep), repeatKv(v, nRep)]; // [B, T, H, dh]
  return hooks.wants(patternHook)
    ? explicitAttention(q, kFull, vFull, mask, scale, patternHook, layer, hooks)
    : attention(q, kFull, vFull, mask, scale); // [B, T, H, dh]
}

function explicitAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hook: string, i: number, hooks: HookRunner): tf.Tensor4D {
  const [B, T, H, dh] = q.shape;
  const toBatched = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * H, T, dh]);
  const scores = tf.add(tf.mul(bmm(toBatched(q), toBatched(k), true), scale), mask); // [B·H, T, T]
  const pattern = hooks.run(hook, tf.reshape(tf.softmax(scores), [B, H, T, T]), i);
  const z = tf.reshape(bmm(tf.reshape(pattern, [B * H, T, T]), toBatched(v)), [B, H, T, dh]);
  return tf.transpose(z, [0, 2, 1, 3]) as tf.Tensor4D; // [B, T, H, dh]
}
