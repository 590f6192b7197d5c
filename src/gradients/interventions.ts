import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { HookFn } from '../models/hooks.ts';
import type { LMConfig as ModelConfig } from '../models/lm-config.ts';
import { hookFeatureWidth } from '../models/layout.ts';
import { orthonormalRows } from './linalg.ts';

/**
 * Training-time activation interventions. Each is a differentiable hook edit, so the
 * backward pass sees it too (CAFT ablates in forward and backward). They are passed only
 * to training forward passes; evaluation and generation run without them.
 */

/** Width of a hook's last axis: D for residual-stream hooks, M for MLP hooks, dh for q/k/v/z. */
export function hookWidth(c: Pick<ModelConfig, 'dModel' | 'dMlp' | 'nHeads'>, hook: string): number {
  const width = hookFeatureWidth(c, hook);
  if (width === undefined) throw new BonsaiError(`${hook}: attention patterns cannot be ablated or steered along directions`);
  return width;
}

/** Refuses directions whose width differs from the hook's, naming both. */
export function checkWidth(hook: string, width: number, dirWidth: number, source: string): void {
  if (dirWidth !== width) {
    throw new BonsaiError(`directions from ${source} have width ${dirWidth}, but hook ${hook} has width ${width}`, {
      hint: 'compute the directions at the same hook of the same model (bonsai directions --hook ...)',
    });
  }
}

/**
 * Concept ablation (CAFT): a ← a − (a Q) Qᵀ with Q [D, k] the orthonormalised directions,
 * i.e. the activation's component in span(directions) is removed. Returns the hook and Q
 * (a kept tensor the caller disposes).
 */
export function ablateHook(directions: readonly ArrayLike<number>[]): { fn: HookFn; q: tf.Tensor2D } {
  const rows = orthonormalRows(directions);
  if (!rows.length) throw new BonsaiError('ablate: the directions are all zero');
  const D = rows[0]!.length;
  const flat = new Float32Array(rows.length * D);
  rows.forEach((r, i) => flat.set(r, i * D));
  const qT = tf.keep(tf.tensor2d(flat, [rows.length, D])); // [k, D]
  const fn: HookFn = (a) => {
    const shape = a.shape;
    const x = tf.reshape(a, [-1, D]); // [N, D]
    const coef = tf.matMul(x, qT, false, true); // [N, k]
    return tf.reshape(tf.sub(x, tf.matMul(coef, qT)), shape);
  };
  return { fn, q: qT };
}

/**
 * Preventative steering: a ← a + coef · v/‖v‖, at every position or only at `positions` (the
 * vector then goes where the trait is decided, not where the model would learn to cancel it).
 * Returns the hook and the kept tensor (the caller disposes it).
 */
export function steerHook(direction: ArrayLike<number>, coef: number, at?: { positions: readonly number[]; nCtx: number }): { fn: HookFn; v: tf.Tensor } {
  const norm = Math.hypot(...Array.from(direction));
  if (!(norm > 0)) throw new BonsaiError('steer: the direction is zero');
  const unit = Array.from(direction, (x) => (x / norm) * coef);
  if (!at) {
    const v = tf.keep(tf.tensor1d(unit));
    return { fn: (a) => tf.add(a, v), v };
  }
  const D = unit.length;
  const picked = new Set(at.positions);
  const v = tf.keep(tf.tensor3d(Array.from({ length: at.nCtx }, (_, t) => (picked.has(t) ? unit : new Array<number>(D).fill(0))).flat(), [1, at.nCtx, D])); // [1, n_ctx, D]
  return {
    fn: (a) => {
      const T = a.shape[1]!;
      const add = tf.slice(v, [0, 0, 0], [1, T, D]); // [1, T, D]
      return tf.add(a, a.rank === 4 ? tf.reshape(add, [1, T, 1, D]) : add); // per-head hooks are [B, T, H, dh]
    },
    v,
  };
}
