import * as tf from '@tensorflow/tfjs';
import { CBLAS, type BlasLibrary } from './blas-library.ts';
import { heapView, wrapWasmKernels, type WasmBackendLike } from './wasm-kernels.ts';

/**
 * The wasm backend's matrix products (BatchMatMul, _FusedMatMul) on the platform's BLAS.
 *
 * Every tensor of the wasm backend lives in the module's linear memory, so cblas_sgemm
 * reads the operands and writes the output there in place: Float32Array views of the heap
 * are pointers into it (koffi passes a typed array's own memory). Transposes are CBLAS
 * flags, a batch is one call per matrix, threads are the library's own.
 *
 * Measured on a 2-core AVX-512 machine (docs/backends.md): BLAS is faster than XNNPACK at
 * every size down to 2×2×2 (the FFI call costs less than XNNPACK's own dispatch), except a
 * few rows against one huge operand ([≤ 16, 576]·[576, 49152], a decode step's logits),
 * where OpenBLAS packs the whole big operand per call and XNNPACK, which caches it packed,
 * is up to 8× faster. Those plain products stay on XNNPACK. A transposed or batched product
 * always comes here: tfjs-wasm runs those on its scalar loop (1–3 GFLOP/s).
 */

/** Where products go on wasm; read by the kernels on every call, so a test can switch it. */
interface BlasState {
  library?: BlasLibrary;
  enabled: boolean;
  /** Plain (untransposed, unbatched) products with at most this many rows (or columns) against an operand of at least `skinnyElems` stay on XNNPACK. */
  skinnyRows: number;
  skinnyElems: number;
  /** Products of each path since the last reset (tests spy on these). */
  calls: { blas: number; xnnpack: number };
}

/** Plain products with at most this many rows (or columns) against an operand of ≥ 4M elements stay on XNNPACK (measured: bench/blas-products.ts). */
export const SKINNY_ROWS = 16;

const state: BlasState = { enabled: false, skinnyRows: SKINNY_ROWS, skinnyElems: 1 << 22, calls: { blas: 0, xnnpack: 0 } };

/** The library products go to, or undefined when they run on XNNPACK. */
export function activeBlas(): BlasLibrary | undefined {
  return state.enabled ? state.library : undefined;
}

/** Routes products to `library` (undefined: back to XNNPACK). Kernels are registered on first use. */
export function setBlas(library: BlasLibrary | undefined, opts: { skinnyRows?: number } = {}): void {
  state.library = library;
  state.enabled = library !== undefined;
  if (opts.skinnyRows !== undefined) state.skinnyRows = opts.skinnyRows;
  if (library) registerBlasKernels();
}

/** Counts of products per path since the last call (and resets them). */
export function takeProductCounts(): { blas: number; xnnpack: number } {
  const c = { ...state.calls };
  state.calls = { blas: 0, xnnpack: 0 };
  return c;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs: tf.NamedAttrMap };

/** The product's sizes, or undefined when its batch dims broadcast in a way handled only by the original kernel. */
function productDims(a: tf.TensorInfo, b: tf.TensorInfo, tA: boolean, tB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const N = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  // Equal batches, or one side shared by every matrix of the other (a weight against a batch).
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { M, N, K, batchA, batchB, batch: Math.max(batchA, batchB), outShape: [...outer, M, N] };
}

/** True when this product should go to BLAS. */
function wanted(d: { M: number; N: number; K: number; batch: number }, tA: boolean, tB: boolean, dtype: tf.DataType): boolean {
  if (!state.enabled || !state.library || dtype !== 'float32') return false;
  const plain = !tA && !tB && d.batch === 1;
  const skinny = Math.min(d.M, d.N) <= state.skinnyRows && d.K * Math.max(d.M, d.N) >= state.skinnyElems;
  return !(plain && skinny);
}

/** The sizes of one cblas_sgemm repeated over a list of matrices (row-major; ld = row stride in elements). */
export interface GemmShape {
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
  lda: number;
  ldb: number;
  ldc: number;
}

/**
 * For each call, C = op(A)·op(B) (+ C when `accumulate`) with A, B, C starting at the given
 * element offsets into the tensors' heap memory. Views are made here, after every output
 * has been allocated, so a heap that grew meanwhile is seen.
 */
export function sgemmOnHeap(
  backend: WasmBackendLike, calls: { a: number; b: number; c: number }[], t: { a: tf.TensorInfo; b: tf.TensorInfo; out: tf.TensorInfo },
  g: GemmShape, accumulate = false,
): void {
  state.calls.blas++;
  const o = heapView(backend, t.out) as Float32Array;
  if (g.M * g.N === 0) return;
  if (g.K === 0) {
    if (!accumulate) o.fill(0);
    return;
  }
  const av = heapView(backend, t.a) as Float32Array;
  const bv = heapView(backend, t.b) as Float32Array;
  const sgemm = state.library!.sgemm;
  const opA = g.tA ? CBLAS.Trans : CBLAS.NoTrans;
  const opB = g.tB ? CBLAS.Trans : CBLAS.NoTrans;
  for (const c of calls) {
    sgemm(CBLAS.RowMajor, opA, opB, g.M, g.N, g.K, 1, av.subarray(c.a), g.lda, bv.subarray(c.b), g.ldb, accumulate ? 1 : 0, o.subarray(c.c), g.ldc);
  }
}

/** out[g] = op(a[g])·op(b[g]) (+ out[g] when `accumulate`) over the batch; `out` is a fresh [batch, M, N]. */
function gemm(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, tA: boolean, tB: boolean, d: NonNullable<ReturnType<typeof productDims>>, accumulate: boolean): void {
  const { M, N, K, batchA, batchB, batch } = d;
  const calls = Array.from({ length: batch }, (_, i) => ({ a: batchA === 1 ? 0 : i * M * K, b: batchB === 1 ? 0 : i * K * N, c: i * M * N }));
  sgemmOnHeap(backend, calls, { a, b, out }, { M, N, K, tA, tB, lda: tA ? M : K, ldb: tB ? K : N, ldc: N }, accumulate);
}

function batchMatMul(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const tA = !!args.attrs.transposeA;
    const tB = !!args.attrs.transposeB;
    const d = productDims(a, b, tA, tB);
    if (!d || !wanted(d, tA, tB, a.dtype) || b.dtype !== 'float32') {
      state.calls.xnnpack++;
      return original(args as never) as tf.TensorInfo;
    }
    const out = args.backend.makeOutput([d.batch, d.M, d.N], 'float32');
    gemm(args.backend, a, b, out, tA, tB, d, false);
    out.shape = d.outShape;
    return out;
  };
}

/** The epilogues _FusedMatMul may ask for, applied in place (prelu goes to the original kernel). */
const ACTIVATIONS: Record<string, ((o: Float32Array, alpha: number) => void) | undefined> = {
  linear: () => {},
  relu: (o) => { for (let i = 0; i < o.length; i++) if (!(o[i]! > 0)) o[i] = 0; },
  relu6: (o) => { for (let i = 0; i < o.length; i++) o[i] = Math.min(6, Math.max(0, o[i]!)); },
  leakyrelu: (o, alpha) => { for (let i = 0; i < o.length; i++) if (o[i]! < 0) o[i] = o[i]! * alpha; },
  sigmoid: (o) => { for (let i = 0; i < o.length; i++) o[i] = 1 / (1 + Math.exp(-o[i]!)); },
  elu: (o) => { for (let i = 0; i < o.length; i++) if (o[i]! < 0) o[i] = Math.expm1(o[i]!); },
};

function fusedMatMul(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b, bias } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
    const tA = !!args.attrs.transposeA;
    const tB = !!args.attrs.transposeB;
    const act = ACTIVATIONS[String(args.attrs.activation ?? 'linear')];
    const d = productDims(a, b, tA, tB);
    // A bias over the output's columns ([N], or one value) is written first and the product added onto it.
    const biasOk = !bias || (bias.shape.length <= 1 && (tf.util.sizeFromShape(bias.shape) === d?.N || tf.util.sizeFromShape(bias.shape) === 1));
    if (!d || !act || !biasOk || !wanted(d, tA, tB, a.dtype) || b.dtype !== 'float32') {
      state.calls.xnnpack++;
      return original(args as never) as tf.TensorInfo;
    }
    const out = args.backend.makeOutput([d.batch, d.M, d.N], 'float32');
    if (bias) {
      const o = heapView(args.backend, out) as Float32Array;
      const bv = heapView(args.backend, bias) as Float32Array;
      if (bv.length === 1) o.fill(bv[0]!);
      else for (let r = 0; r < d.batch * d.M; r++) o.set(bv, r * d.N);
    }
    gemm(args.backend, a, b, out, tA, tB, d, !!bias);
    act(heapView(args.backend, out) as Float32Array, Number(args.attrs.leakyreluAlpha ?? 0.2));
    out.shape = d.outShape;
    return out;
  };
}

let registered = false;

/** Wraps wasm's BatchMatMul and _FusedMatMul (each keeps the original for what stays on XNNPACK). Idempotent. */
function registerBlasKernels(): void {
  if (registered) return;
  registered = true;
  const wrappers: Record<string, (original: tf.KernelFunc) => (args: KernelArgs) => tf.TensorInfo> = {
    BatchMatMul: batchMatMul,
    _FusedMatMul: fusedMatMul,
  };
  wrapWasmKernels(wrappers);
}
