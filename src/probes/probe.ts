/**
 * A probe: a small classifier over one hook point's features. Weights live in tf so a
 * reward can score a whole rollout batch's cached activations in one product; inputs are
 * standardised with the training features' mean/std, stored with the weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { Sae } from '../sae/sae.ts';
import type { ProbeLevel } from './capture.ts';
import type { LogitLens } from './logit-lens.ts';
import type { ProbeMetrics } from './metrics.ts';

/** Probe kinds (components): logistic regression, or an MLP with one hidden ReLU layer. */
export type ProbeKindSpec = { kind: 'logistic'; l2: number } | { kind: 'mlp'; hidden: number; l2: number };

/** Everything about a probe except its weights; saved as JSON beside them. */
export interface ProbeMeta {
  name: string;
  hook: string;
  level: ProbeLevel;
  kind: ProbeKindSpec;
  /** Feature width: the hook's activation width, the SAE's latent count with `features: 'sae'`, the vocabulary with 'logit_lens'. */
  d: number;
  /**
   * What the classifier reads: the hook's activations (absent or 'raw'), an SAE's latents of them
   * ('sae'), or the frozen model's next-token log-probabilities from them ('logit_lens', logit-lens.ts).
   */
  features?: 'raw' | 'sae' | 'logit_lens';
  /** Scores ≥ threshold count as positive (chosen for F1 on the training split). */
  threshold: number;
  /** Held-out metrics. */
  metrics: ProbeMetrics;
  /** Fingerprint of the frozen model whose activations it was trained on. */
  fingerprint: string;
}

/** Names of a probe's weight tensors, per kind. */
export function weightNames(kind: ProbeKindSpec): string[] {
  return kind.kind === 'logistic' ? ['mu', 'sigma', 'w', 'b'] : ['mu', 'sigma', 'W1', 'b1', 'w2', 'b2'];
}

export class Probe {
  constructor(
    readonly meta: ProbeMeta,
    /** Kept tensors by name (see weightNames); the probe owns and disposes them. */
    readonly weights: Record<string, tf.Tensor>,
    /** With `features: 'sae'`: the SAE whose latents the classifier reads; owned and disposed by the probe. */
    readonly sae?: Sae,
    /** With `features: 'logit_lens'`: the frozen model's output head; not owned (the model is the caller's). */
    readonly lens?: LogitLens,
  ) {}

  /** The same classifier reading `sae`'s latents of the hook's activations (it takes ownership of both). */
  withSae(sae: Sae): Probe {
    return new Probe({ ...this.meta, features: 'sae' }, this.weights, sae);
  }

  /** The same classifier reading `lens`'s log-probabilities of the hook's activations (it owns the weights, not the lens). */
  withLens(lens: LogitLens): Probe {
    return new Probe({ ...this.meta, features: 'logit_lens' }, this.weights, undefined, lens);
  }

  /** A copy with its own weights (and its own SAE), the same lens: disposing one never breaks the other. */
  clone(): Probe {
    const w = Object.fromEntries(Object.entries(this.weights).map(([k, t]) => [k, t.clone()]));
    return new Probe({ ...this.meta }, w, this.sae?.clone(), this.lens);
  }

  /** Width of what `logits`, `score` and `scoreRows` take: the hook's activation width. */
  get inputWidth(): number {
    return this.sae ? this.sae.meta.d : this.lens ? this.lens.inputWidth : this.meta.d;
  }

  /**
   * Logits for the hook's activations [..., inputWidth] → [...]; with an SAE they are encoded
   * to latents first, with the logit lens to log-probabilities (inside the same pass). Not tidied: call inside tf.tidy or variableGrads.
   */
  logits(act: tf.Tensor): tf.Tensor {
    const w = this.weights;
    const x = this.sae ? this.sae.encode(act) : this.lens ? this.lens.encode(act) : act; // [..., d]
    const lead = x.shape.slice(0, -1);
    const flat = tf.div(tf.sub(tf.reshape(x, [-1, this.meta.d]), w.mu!), w.sigma!) as tf.Tensor2D; // [N, d]
    let out: tf.Tensor;
    if (this.meta.kind.kind === 'logistic') {
      out = tf.add(tf.matMul(flat, tf.reshape(w.w!, [-1, 1])), w.b!); // [N, 1]
    } else {
      const h = tf.relu(tf.add(tf.matMul(flat, w.W1 as tf.Tensor2D), w.b1!)); // [N, H]
      out = tf.add(tf.matMul(h, tf.reshape(w.w2!, [-1, 1])), w.b2!); // [N, 1]
    }
    return tf.reshape(out, lead);
  }

  /** Probabilities in [0, 1] for the hook's activations [..., inputWidth] → [...]. */
  score(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sigmoid(this.logits(x)));
  }

  /** Probabilities for JS rows of the hook's activations [n, inputWidth]. */
  scoreRows(X: Float32Array, n: number): Float32Array {
    const t = tf.tidy(() => this.score(tf.tensor2d(X, [n, this.inputWidth])));
    const out = t.dataSync() as Float32Array;
    t.dispose();
    return out;
  }

  dispose(): void {
    tf.dispose(Object.values(this.weights));
    this.sae?.dispose();
  }
}
