/**
 * A TopK sparse autoencoder (Gao et al. 2024, "Scaling and evaluating sparse autoencoders")
 * over one hook point's activations of one frozen model:
 *   z = ReLU(TopK(W_enc (x − b_dec) + b_enc)),   x̂ = W_dec z + b_dec
 * with unit-norm decoder rows. TopK fixes the number of active latents per token at k, so
 * there is no L1 penalty to tune and no shrinkage of the kept activations.
 */
import * as tf from '@tensorflow/tfjs';
import { withGrad } from '../backend/grad.ts';

/** What an SAE is of, and how it was trained; saved as `sae.json` beside the weights. */
export interface SaeMeta {
  /** The hook point whose activations it reconstructs. */
  hook: string;
  /** Fingerprint of the frozen model those activations came from. */
  fingerprint: string;
  /** Activation width at the hook (flattened per token). */
  d: number;
  /** Dictionary size (number of latents). */
  latents: number;
  /** Active latents per token. */
  k: number;
  /** Held-out reconstruction metrics at the end of training (see SaeMetrics). */
  metrics?: SaeMetrics;
  /** The training settings, as run. */
  train?: Record<string, unknown>;
}

/** How well an SAE reconstructs activations it was not trained on. */
export interface SaeMetrics {
  /** Mean squared error per activation element. */
  mse: number;
  /** 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² (x̄: the rows' mean). */
  fve: number;
  /** Share of latents that fire on no row of the data (train and held-out). */
  dead_fraction: number;
  /** Mean number of latents > 0 per row (≤ k: ReLU can zero some of the top k). */
  l0: number;
  /** Rows the metrics were measured on. */
  n: number;
}

/** Names of an SAE's weight tensors. */
export const SAE_WEIGHTS = ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const;
export type SaeWeightName = (typeof SAE_WEIGHTS)[number];

/**
 * The kept top-k of `pre` per row, others 0, then ReLU: [N, m] → [N, m]. Not tidied. The
 * mask is a comparison, so gradients reach only the kept entries, as in the paper.
 */
export function topKRelu(pre: tf.Tensor2D, k: number): tf.Tensor2D {
  const kth = kthLargest(pre, k); // [N, 1]
  const keep = tf.cast(tf.greaterEqual(pre, kth), 'float32'); // [N, m]
  return tf.mul(tf.relu(pre), keep) as tf.Tensor2D;
}

/** Each row's k-th largest value [N, m] → [N, 1], as a constant for autodiff (tfjs has no TopK gradient; none is needed: it only sets the mask). */
function kthLargest(pre: tf.Tensor2D, k: number): tf.Tensor2D {
  const f = withGrad(([x]) => ({
    value: tf.slice(tf.topk(x as tf.Tensor2D, k).values, [0, k - 1], [-1, 1]),
    gradFunc: () => [tf.zerosLike(x!)],
  }));
  return f(pre) as tf.Tensor2D;
}

export class Sae {
  constructor(
    readonly meta: SaeMeta,
    /** W_enc [d, m], b_enc [m], W_dec [m, d] (unit-norm rows), b_dec [d]; owned and disposed by the SAE. */
    readonly weights: Record<SaeWeightName, tf.Tensor>,
  ) {}

  /** Pre-activations (x − b_dec) W_enc + b_enc: [N, d] → [N, m]. Not tidied. */
  preActivations(x: tf.Tensor2D): tf.Tensor2D {
    const w = this.weights;
    return tf.add(tf.matMul(tf.sub(x, w.b_dec), w.W_enc as tf.Tensor2D), w.b_enc) as tf.Tensor2D;
  }

  /** Sparse latents for activations [..., d] → [..., m]. Not tidied: call inside tf.tidy. */
  encode(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const z = topKRelu(this.preActivations(tf.reshape(x, [-1, this.meta.d]) as tf.Tensor2D), this.meta.k); // [N, m]
    return tf.reshape(z, [...lead, this.meta.latents]);
  }

  /** Reconstruction from latents [N, m] → [N, d]. Not tidied. */
  decode(z: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(z, this.weights.W_dec as tf.Tensor2D), this.weights.b_dec) as tf.Tensor2D;
  }

  /** Latents as JS rows: [n, d] → [n, m]. */
  encodeRows(X: Float32Array, n: number): Float32Array {
    const t = tf.tidy(() => this.encode(tf.tensor2d(X, [n, this.meta.d])));
    const out = t.dataSync() as Float32Array;
    t.dispose();
    return out;
  }

  /** A copy with its own weights. */
  clone(): Sae {
    return new Sae({ ...this.meta }, Object.fromEntries(Object.entries(this.weights).map(([k, t]) => [k, t.clone()])) as Record<SaeWeightName, tf.Tensor>);
  }

  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }
}
