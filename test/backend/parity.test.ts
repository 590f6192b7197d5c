import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { useBlas } from '../../src/backend/blas.ts';
import { HookedTransformer } from '../../src/models/index.ts';
import { lmLoss, type LmBatch } from '../../src/trainer/index.ts';
import { Rng } from '../../src/util/rng.ts';

/**
 * The whole model on wasm (our kernels, overrides and fused ops) against tfjs-cpu (the
 * reference): same seed → same weights, so loss and every parameter's gradient must agree.
 * wasm runs twice: products on the platform's BLAS (when found) and on XNNPACK.
 */

const base = { vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 48, nCtx: 12, layerNormEps: 1e-5, initStd: 0.2 };

function batch(seed: number, B: number, T: number, V: number): LmBatch {
  const rng = new Rng(seed);
  const ids = () => Int32Array.from({ length: B * T }, () => rng.nextUint32() % V);
  const weights = Float32Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? 0 : 1)); // some masked targets
  return { inputs: ids(), targets: ids(), weights, batchSize: B, seqLen: T };
}

/** Loss and gradients by parameter path, read back to JS. */
async function lossAndGrads(backend: 'cpu' | 'wasm' | 'wasm-xnnpack', tied: boolean, cachePattern: boolean) {
  await initBackend(backend === 'cpu' ? 'cpu' : 'wasm');
  if (backend !== 'cpu') useBlas(backend === 'wasm');
  const model = HookedTransformer.create({ ...base, tiedEmbeddings: tied }, 5);
  try {
    const b = batch(9, 3, 10, base.vocabSize);
    const forward = cachePattern ? { cache: ['blocks.1.attn.hook_pattern'] } : {};
    const vars = [...model.params.values()];
    const { value, grads } = tf.variableGrads(() => lmLoss(model, b, { forward }), vars);
    const byPath = new Map<string, Float32Array>();
    for (const [path, v] of model.params) byPath.set(path, grads[v.name]!.dataSync() as Float32Array);
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: byPath };
  } finally {
    model.dispose();
  }
}

describe('model parity: wasm vs cpu', () => {
  for (const [tied, cachePattern, products] of [[true, false, 'wasm'], [true, true, 'wasm'], [false, false, 'wasm'], [false, true, 'wasm'], [true, false, 'wasm-xnnpack'], [false, true, 'wasm-xnnpack']] as const) {
    {
      it(`loss and every gradient agree (${tied ? 'tied' : 'untied'}, ${cachePattern ? 'explicit' : 'fused'} attention, products on ${products === 'wasm' ? 'BLAS where found' : 'XNNPACK'})`, async () => {
        const cpu = await lossAndGrads('cpu', tied, cachePattern);
        const wasm = await lossAndGrads(products, tied, cachePattern);
        useBlas(true);
        expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-5);
        expect([...wasm.grads.keys()]).toEqual([...cpu.grads.keys()]);
        // Relative to the parameter's own gradient scale, floored at 1% of the largest: some
        // gradients are exactly zero in exact arithmetic (b_K: softmax ignores a per-query
        // shift) and both backends return rounding noise there.
        const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        const global = Math.max(...[...cpu.grads.values()].map(maxAbs));
        for (const [path, want] of cpu.grads) {
          const got = wasm.grads.get(path)!;
          let diff = 0;
          for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
          expect(diff / Math.max(maxAbs(want), 1e-2 * global), path).toBeLessThan(1e-4);
        }
      });
    }
  }
});
