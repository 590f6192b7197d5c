import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { LoraAdapters, initialAdapters } from '../../src/lora/adapters.ts';
import { attachLora } from '../../src/lora/attach.ts';
import { loraScale } from '../../src/lora/settings.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { computeGradients } from '../../src/trainer/seam.ts';

/** Largest |got − want| over the largest |want| (floored at 1e-6) stays below `tol`. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 1e-6;
  let d = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    d = Math.max(d, Math.abs(got[i]! - want[i]!));
  }
  expect(d / scale, what).toBeLessThan(tol);
}

/** The seam's loss and gradients by path, read back to JS (the gradients freed). */
export function lossAndGradsOf(model: CausalLM, lossFn: () => tf.Scalar): { loss: number; grads: Record<string, number[]> } {
  const { loss, grads } = computeGradients(model, lossFn);
  const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.dataSync())]));
  tf.dispose(Object.values(grads));
  return { loss, grads: out };
}

/** Rank-4 adapters (alpha 8) on `targets`, attached, with B set away from zero so every adapter changes the model. */
export function withNonzeroAdapters(model: CausalLM, targets: string[], seed = 3): LoraAdapters {
  const shapes = new Map(targets.map((p) => [p, model.params.get(p)!.shape]));
  const init = initialAdapters(shapes, 4, loraScale(8, 4, false), seed);
  for (const v of init.values()) v.B.forEach((_, i) => (v.B[i] = Math.sin(i + 1) / 4));
  const adapters = new LoraAdapters(shapes, init, 0, seed);
  attachLora(model, adapters);
  return adapters;
}
