import * as tf from '@tensorflow/tfjs';
import { heapView, wrapWasmKernels, type WasmBackendLike } from './wasm-kernels.ts';
import { permute } from './wasm-transpose.ts';

/**
 * JS replacements for wasm kernels that are slow on the shapes training produces:
 *   Transpose  — tfjs's C++ loop does a divide per element (4 ms for [1024, 512]);
 *   GatherV2   — the embedding lookup; tfjs checks every index through a closure first;
 *   Sum        — over leading axes (bias and LayerNorm gradients) tfjs transposes first
 *                with its slow Transpose; we multiply by a row of ones instead.
 *   OneHot     — a bug fix: tfjs's C++ kernel writes int32 bits whatever the dtype, so a
 *                float32 one-hot reads 1.4e-45 for 1.
 *   Identity   — tfjs's copies the tensor. The engine clones every tensor a kernel saves for
 *                its gradient through Identity, so under a tape each saved input or output
 *                was a second copy on the heap (the frozen embedding saved by the lookup:
 *                113 MB on a SmolLM2 shape). Tensors are immutable: share the memory and
 *                count a reference, as tfjs-cpu's Identity and wasm's own Reshape do.
 * Each hands every case it does not speed up to the original (wrapWasmKernels).
 */

type Kernel = (args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs: tf.NamedAttrMap }) => tf.TensorInfo;

function transpose(original: tf.KernelFunc): Kernel {
  return (args) => {
    const x = args.inputs.x!;
    const perm = args.attrs.perm as number[];
    if (x.dtype === 'string' || x.dtype === 'complex64') return original(args as never) as tf.TensorInfo;
    const out = args.backend.makeOutput(perm.map((a) => x.shape[a]!), x.dtype);
    if (tf.util.sizeFromShape(x.shape) > 0) permute(heapView(args.backend, x), heapView(args.backend, out), x.shape, perm);
    return out;
  };
}

function gatherV2(original: tf.KernelFunc): Kernel {
  return (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const batchDims = (args.attrs.batchDims as number) ?? 0;
    if (batchDims !== 0 || x.dtype === 'string' || x.dtype === 'complex64') return original(args as never) as tf.TensorInfo;
    const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const dim = x.shape[axis]!;
    const slice = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    const n = tf.util.sizeFromShape(indices.shape);
    const out = args.backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    const xs = heapView(args.backend, x);
    const ids = heapView(args.backend, indices);
    const o = heapView(args.backend, out);
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < dim)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${dim - 1}]`);
    }
    for (let a = 0; a < outer; a++) {
      for (let i = 0; i < n; i++) {
        const src = (a * dim + ids[i]!) * slice;
        const dst = (a * n + i) * slice;
        if (slice >= 32) o.set(xs.subarray(src, src + slice), dst);
        else for (let j = 0; j < slice; j++) o[dst + j] = xs[src + j]!;
      }
    }
    return out;
  };
}

/** A new tensor id over x's memory; `release` drops it (and any operator cached on it) without freeing the memory. */
function alias(backend: WasmBackendLike, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, x.dtype, backend.dataIdMap.get(x.dataId).memoryOffset);
}

function release(backend: WasmBackendLike, a: tf.TensorInfo): void {
  const { id } = backend.dataIdMap.get(a.dataId);
  backend.wasm.tfjs.disposeData(id); // runs the C++ disposal callbacks (cached operators)
  backend.dataIdMap.delete(a.dataId);
}

function sum(original: tf.KernelFunc): Kernel {
  return (args) => {
    // Looked up per call: on the platform's BLAS when blas-kernels.ts has wrapped it.
    const matMulKernel = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    const x = args.inputs.x!;
    const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
    // Only a leading prefix of axes (0, 1, …, k−1) and at least one axis kept.
    const leading = axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32' || !matMulKernel) return original(args as never) as tf.TensorInfo;
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const kept = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(kept);
    const outShape = args.attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
    // Column sums as ones[1, rows]·x[rows, cols]: XNNPACK's vector GEMM (or BLAS's) beats
    // both tfjs's transpose-then-reduce and a JS loop (0.05 vs 5 vs 0.9 ms for [1024, 512]).
    const backend = args.backend;
    const ones = backend.makeOutput([1, 1, rows], 'float32');
    heapView(backend, ones).fill(1);
    // x goes in as an alias (same memory, new id): tfjs caches XNNPACK's packed weights
    // under the right operand's id alone, so the same tensor multiplied later in another
    // shape would reuse a wrong-sized operator and write out of bounds.
    const x3 = alias(backend, x, [1, rows, cols]);
    const out = matMulKernel!({ inputs: { a: ones, b: x3 }, attrs: { transposeA: false, transposeB: false }, backend } as never) as tf.TensorInfo;
    release(backend, x3);
    backend.disposeData(ones.dataId);
    out.shape = outShape;
    return out;
  };
}

function oneHot(): Kernel {
  return (args) => {
    const indices = args.inputs.indices!;
    const { dtype, depth, onValue, offValue } = args.attrs as { dtype: tf.DataType; depth: number; onValue: number; offValue: number };
    const out = args.backend.makeOutput([...indices.shape, depth], dtype);
    const o = heapView(args.backend, out);
    const ids = heapView(args.backend, indices);
    o.fill(offValue);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= 0 && id < depth) o[i * depth + id] = onValue; // out of range: all off, as in TF
    }
    return out;
  };
}

function identity(original: tf.KernelFunc): Kernel {
  return (args) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string') return original(args as never) as tf.TensorInfo;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

const OVERRIDES: Record<string, (original: tf.KernelFunc) => Kernel> = { Transpose: transpose, GatherV2: gatherV2, Sum: sum, OneHot: oneHot, Identity: identity };
let installed = false;

/** Replaces the slow wasm kernels. Idempotent; call before or after the backend starts. */
export function installWasmOverrides(): void {
  if (installed) return;
  installed = true;
  wrapWasmKernels(OVERRIDES);
}
