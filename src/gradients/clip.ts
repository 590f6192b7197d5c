import * as tf from '@tensorflow/tfjs';
import type { GradientTransform, NamedGrads } from './transform.ts';

/** The global L2 norm over all gradients, as a scalar tensor. */
export function globalNorm(grads: NamedGrads): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/**
 * Clips by global norm: g ← g · min(1, maxNorm / ‖g‖). Logs the norm before clipping and
 * whether the step was clipped.
 */
export function clipTransform(maxNorm: number, name = 'clip'): GradientTransform {
  return {
    name,
    apply(grads) {
      const normT = globalNorm(grads);
      const norm = normT.dataSync()[0]!;
      normT.dispose();
      if (!(norm > maxNorm)) return { grads, stats: { norm, clipped: 0 } };
      const scale = maxNorm / (norm + 1e-6);
      const out: NamedGrads = {};
      for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
      return { grads: out, stats: { norm, clipped: 1 } };
    },
  };
}
