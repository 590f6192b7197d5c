import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Freezer } from '../gradients/freeze.ts';
import type { NamedGrads } from '../gradients/transform.ts';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /**
   * Which parameters decay. Default: matrices only (rank ≥ 2), the GPT-2 convention —
   * biases and LayerNorm gains are not pulled toward zero.
   */
  decays?: (path: string, v: tf.Variable) => boolean;
}

/**
 * AdamW with decoupled weight decay, written out (not tf.train.adam) so that its state is
 * named by parameter path — checkpoints save it, and later masks (freezing) can cover the
 * moments and the decay, not only the gradient. Matches torch.optim.AdamW's update.
 */
export class AdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  lr: number;
  /** Number of updates applied so far. */
  t = 0;
  private readonly decays: (path: string, v: tf.Variable) => boolean;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /**
   * The installed circuit freezing (set by `Freezer.install`; not owned). AdamW holds its
   * masked entries fixed: fully frozen tensors are skipped, partly frozen ones keep their old
   * weight, m and v at frozen entries (a select, not arithmetic, so the values stay
   * bit-identical whatever the gradient, decay or moments would have done). applyGradients
   * reads it too, to zero frozen gradients before any transform sees them.
   */
  freezer: Freezer | undefined;

  constructor(opts: AdamWOptions) {
    this.lr = opts.lr;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decays = opts.decays ?? ((_p, v) => v.rank >= 2);
  }

  /** Applies one update to `params` from `grads` (both by path) at learning rate `lr`. */
  apply(params: ReadonlyMap<string, tf.Variable>, grads: NamedGrads, lr = this.lr): void {
    this.t += 1;
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (const [path, g] of Object.entries(grads)) {
      const p = params.get(path);
      if (!p) throw new BonsaiError(`optimizer: gradient for unknown parameter "${path}"`);
      if (!p.trainable) throw new BonsaiError(`optimizer: refusing to update "${p.name}": it is not trainable (a frozen copy?)`);
      const mask = this.freezer?.masks.get(path);
      if (mask?.all) continue;
      const m = this.slot(this.m, path, p);
      const v = this.slot(this.v, path, p);
      tf.tidy(() => {
        const hold = (old: tf.Tensor, next: tf.Tensor) => (mask ? tf.where(mask.frozen!, old, next) : next);
        const mNew = hold(m, tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        const vNew = hold(v, tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        m.assign(mNew);
        v.assign(vNew);
        const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(bc2)), this.eps);
        let next = tf.sub(p, tf.mul(tf.div(mNew, denom), lr / bc1));
        if (this.weightDecay > 0 && this.decays(path, p)) {
          // torch order: p ← p·(1 − lr·wd) first, then the Adam step; both read old p.
          next = tf.sub(next, tf.mul(p, lr * this.weightDecay));
        }
        p.assign(hold(p, next));
      });
    }
  }

  private slot(store: Map<string, tf.Variable>, path: string, p: tf.Variable): tf.Variable {
    let s = store.get(path);
    if (!s) {
      const zeros = tf.zerosLike(p);
      s = tf.variable(zeros, false);
      zeros.dispose(); // the variable holds its own reference to the data
      store.set(path, s);
    }
    return s;
  }

  /** Moments as plain arrays by `m.<path>` / `v.<path>`, for checkpoints. */
  stateSync(): { t: number; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [prefix, store] of [['m', this.m], ['v', this.v]] as const) {
      for (const [path, s] of store) tensors.set(`${prefix}.${path}`, { shape: s.shape, data: s.dataSync() as Float32Array });
    }
    return { t: this.t, tensors };
  }

  /** Restores `stateSync()` output; every moment must match its parameter's shape. */
  loadState(params: ReadonlyMap<string, tf.Variable>, state: { t: number; tensors: Map<string, { shape: number[]; data: Float32Array }> }): void {
    this.dispose();
    this.t = state.t;
    for (const [key, { shape, data }] of state.tensors) {
      const [prefix, ...rest] = key.split('.');
      const path = rest.join('.');
      const p = params.get(path);
      if (!p || (prefix !== 'm' && prefix !== 'v')) throw new BonsaiError(`optimizer state has an entry "${key}" that matches no parameter`);
      if (shape.join(',') !== p.shape.join(',')) {
        throw new BonsaiError(`optimizer state "${key}" has shape [${shape}] but the parameter has [${p.shape}]`);
      }
      const init = tf.tensor(data, shape, 'float32');
      (prefix === 'm' ? this.m : this.v).set(path, tf.variable(init, false));
      init.dispose();
    }
  }

  dispose(): void {
    for (const s of [...this.m.values(), ...this.v.values()]) s.dispose();
    this.m.clear();
    this.v.clear();
  }
}
