/**
 * Folding adapters into the weights: W' = W + scale·(B·A)ᵀ in bonsai's [in, out] layout
 * (PEFT's merge, W + scale·B·A on nn.Linear's [out, in], transposed). Plain JS in float64
 * accumulation, so a merged export does not depend on the backend.
 */
import type { AdapterSet } from './adapters.ts';

/** The update scale·(B·A)ᵀ as [in, out] values. */
export function adapterDelta(v: { r: number; scale: number; A: Float32Array; B: Float32Array }, inDim: number, outDim: number): Float32Array {
  const out = new Float32Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let j = 0; j < v.r; j++) s += v.A[j * inDim + i]! * v.B[o * v.r + j]!;
      out[i * outDim + o] = s * v.scale;
    }
  }
  return out;
}

/** `values` with every adapted weight merged (new arrays for those; the rest shared). `shapes`: each weight's [in, out]. */
export function mergeAdapters(values: ReadonlyMap<string, Float32Array>, adapters: AdapterSet, shapes: ReadonlyMap<string, readonly number[]>): Map<string, Float32Array> {
  const out = new Map(values);
  for (const [path, v] of adapters) {
    const [inDim, outDim] = shapes.get(path)!;
    const w = values.get(path);
    if (!w) throw new Error(`internal: no weight ${path} to merge into`);
    const d = adapterDelta(v, inDim!, outDim!);
    const merged = new Float32Array(w.length);
    for (let k = 0; k < w.length; k++) merged[k] = w[k]! + d[k]!;
    out.set(path, merged);
  }
  return out;
}
