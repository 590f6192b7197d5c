/**
 * LoRA adapters as tensors: for each targeted weight W [in, out] (bonsai's x·W layout), a
 * pair lora_A [r, in] and lora_B [out, r] in PEFT's own orientation, so the files need no
 * transposes. The model's linear layers run through `linear` (its `linearTransform`, attach.ts):
 * x·W + scale·(x·Aᵀ)·Bᵀ with W frozen (linear.ts), never forming W + ΔW; any other read of a
 * targeted weight gets W + scale·(B·A)ᵀ through `transform` (its `weightTransform`). Only A and
 * B are variables the optimizer sees.
 */
import * as tf from '@tensorflow/tfjs';
import { addKeepingNothing, frozenLinear } from '../backend/ops.ts';
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { loraLinear } from './linear.ts';
import { kaimingUniformBound } from './settings.ts';

/** One adapter's values, as files hold them. */
export interface AdapterValues {
  r: number;
  scale: number;
  /** [r, in], row-major. */
  A: Float32Array;
  /** [out, r], row-major. */
  B: Float32Array;
}

/** Adapter values by the bonsai path of the weight they adapt. */
export type AdapterSet = Map<string, AdapterValues>;

interface Target {
  r: number;
  scale: number;
  inDim: number;
  outDim: number;
  A: tf.Variable; // [r, in]
  B: tf.Variable; // [out, r]
}

/** The variable paths of the adapter on `path`: `<path>.lora_A` and `<path>.lora_B`. */
export function adapterPaths(path: string): { A: string; B: string } {
  return { A: `${path}.lora_A`, B: `${path}.lora_B` };
}

/**
 * Fresh adapters: A uniform in ±1/√in (PEFT's kaiming_uniform_(a=√5)), B zero, so the model
 * starts exactly at its base. Drawn in JS from a seeded Rng: the same seed gives the same
 * adapters on every backend.
 */
export function initialAdapters(shapes: ReadonlyMap<string, readonly number[]>, r: number, scale: number, seed: number): AdapterSet {
  const rng = new Rng(seed);
  const out: AdapterSet = new Map();
  for (const [path, [inDim, outDim]] of shapes) {
    const bound = kaimingUniformBound(inDim!);
    const A = Float32Array.from({ length: r * inDim! }, () => (2 * rng.next() - 1) * bound);
    out.set(path, { r, scale, A, B: new Float32Array(outDim! * r) });
  }
  return out;
}

export class LoraAdapters {
  /** The trainable variables by path (`blocks.0.attn.W_Q.lora_A`, `….lora_B`): what the optimizer, freezing and transforms see. */
  readonly params = new Map<string, tf.Variable>();
  private readonly targets = new Map<string, Target>();
  /** False: the forward pass reads the base weights (the adapters are switched off). */
  enabled = true;
  /** True inside a training pass (seam.ts's computeGradients): dropout applies only then. */
  training = false;
  private readonly dropoutRng: Rng;
  /** What the PEFT files record: the section's r, alpha, dropout, rslora and the base model's name when known. */
  peft: { r: number; alpha: number; dropout: number; rslora: boolean; base?: string } = { r: 0, alpha: 0, dropout: 0, rslora: false };

  /**
   * `shapes`: each targeted weight's [in, out]; `values`: its adapter (shapes checked).
   * `dropout`: probability on the adapter's input during training passes.
   */
  constructor(shapes: ReadonlyMap<string, readonly number[]>, values: AdapterSet, readonly dropout: number, seed: number) {
    this.dropoutRng = new Rng(seed + 7919);
    for (const [path, [inDim, outDim]] of shapes) {
      const v = values.get(path);
      if (!v) throw new Error(`internal: no adapter values for ${path}`);
      if (v.A.length !== v.r * inDim! || v.B.length !== outDim! * v.r) {
        throw new BonsaiError(`adapter for ${path}: lora_A has ${v.A.length} values and lora_B ${v.B.length}, expected [${v.r}, ${inDim}] and [${outDim}, ${v.r}]`);
      }
      const names = adapterPaths(path);
      const A = tf.tidy(() => tf.variable(tf.tensor2d(v.A, [v.r, inDim!]), true, `lora/${names.A}/${nextId++}`));
      const B = tf.tidy(() => tf.variable(tf.tensor2d(v.B, [outDim!, v.r]), true, `lora/${names.B}/${nextId++}`));
      this.params.set(names.A, A).set(names.B, B);
      this.targets.set(path, { r: v.r, scale: v.scale, inDim: inDim!, outDim: outDim!, A, B });
    }
  }

  /** The adapted weights' paths. */
  paths(): string[] {
    return [...this.targets.keys()];
  }

  /** The model's `weightTransform`: W + scale·(B·A)ᵀ on targets while enabled, W itself otherwise. */
  readonly transform = (path: string, w: tf.Variable): tf.Tensor => {
    const t = this.targets.get(path);
    if (!t || !this.enabled) return w;
    return addKeepingNothing(w, this.deltaOf(t)); // keeps no weight-sized tensor for the backward
  };

  /**
   * The model's `linearTransform`: a targeted layer is x·W + scale·(x·Aᵀ)·Bᵀ (linear.ts), any
   * other layer x·W with W held constant (no weight gradient formed: the base never trains).
   * A base weight someone made trainable again runs plainly (undefined), as does everything
   * while the adapters are switched off.
   */
  readonly linear = (path: string, x: tf.Tensor2D, w: tf.Variable, b?: tf.Tensor1D): tf.Tensor2D | undefined => {
    if (!this.enabled || w.trainable || (b instanceof tf.Variable && b.trainable)) return undefined;
    const t = this.targets.get(path);
    if (!t) return frozenLinear(x, w as tf.Tensor2D, b);
    return loraLinear(x, w as tf.Tensor2D, b, this.inputFactor(t), t.B as tf.Tensor2D, t.scale);
  };

  /** scale·(B·A)ᵀ = scale·Aᵀ·Bᵀ [in, out], with dropout on the input rows during training. */
  private deltaOf(t: Target): tf.Tensor2D {
    // The scale goes on A [r, in], not on the product: a Multiply keeps its inputs for the
    // backward pass, and kept there the [in, out] product would be a second weight-sized
    // tensor per target held until the backward (850 MB on a SmolLM2-135M shape).
    return tf.matMul(tf.mul(this.inputFactor(t), t.scale), t.B, true, true) as tf.Tensor2D; // [in, out]
  }

  /** A [r, in], with dropout on its input features during training passes. */
  private inputFactor(t: Target): tf.Tensor2D {
    let A = t.A as tf.Tensor2D;
    if (this.training && this.dropout > 0) {
      // PEFT drops the adapter's input x per element. Through a weight transform the mask
      // falls on input features instead (columns of A), drawn afresh each forward and shared
      // by the batch's tokens: the same expectation, coarser noise. docs/lora.md says so.
      const keep = 1 - this.dropout;
      const mask = Float32Array.from({ length: t.inDim }, () => (this.dropoutRng.next() < keep ? 1 / keep : 0));
      A = tf.mul(t.A, tf.tensor1d(mask)) as tf.Tensor2D; // [r, in]
    }
    return A;
  }

  /** The update scale·(B·A)ᵀ [in, out] of `path`'s adapter, as values (merging, tests). */
  deltaSync(path: string): Float32Array {
    const t = this.targets.get(path);
    if (!t) throw new Error(`internal: no adapter on ${path}`);
    const d = tf.tidy(() => tf.matMul(tf.mul(t.A, t.scale), t.B, true, true)); // as the forward computes it
    const out = d.dataSync() as Float32Array;
    d.dispose();
    return out;
  }

  /** Adapter values copied to JS, by adapted path. */
  valuesSync(): AdapterSet {
    const out: AdapterSet = new Map();
    for (const [path, t] of this.targets) out.set(path, { r: t.r, scale: t.scale, A: t.A.dataSync() as Float32Array, B: t.B.dataSync() as Float32Array });
    return out;
  }

  /** Sets every adapter from `values` (a resume). */
  assign(values: AdapterSet): void {
    for (const [path, t] of this.targets) {
      const v = values.get(path);
      if (!v || v.r !== t.r) throw new BonsaiError(`adapter for ${path} is missing or has rank ${v?.r}, expected ${t.r}`);
      tf.tidy(() => {
        t.A.assign(tf.tensor2d(v.A, [t.r, t.inDim]));
        t.B.assign(tf.tensor2d(v.B, [t.outDim, t.r]));
      });
    }
  }

  /** Scalars in the adapters. */
  numParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
    this.targets.clear();
  }
}

let nextId = 0;
