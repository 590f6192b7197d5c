import * as tf from '@tensorflow/tfjs';

/**
 * Kernels tfjs-backend-wasm lacks that training needs, written in JS on the wasm heap.
 *
 * The wasm backend keeps every tensor in the module's linear memory; a JS kernel reads its
 * inputs through typed-array views of that memory (no copy) and writes its output into
 * memory the backend allocates (`makeOutput`), exactly as the package's own JS kernels
 * (e.g. Unique) do. Views are taken after every allocation, because growing the memory
 * detaches (single-threaded build) or outgrows (threaded build) earlier views.
 */

/** The parts of BackendWasm a JS kernel uses (its class is not typed for this in 4.22). */
export interface WasmBackendLike extends tf.KernelBackend {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike }; tfjs: { disposeData(id: number): void } };
  dataIdMap: {
    get(dataId: tf.DataId): { id: number; memoryOffset: number; shape: number[]; dtype: tf.DataType };
    delete(dataId: tf.DataId): boolean;
  };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.TypedArray): tf.TensorInfo;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** A zero-copy view of a tensor's data on the wasm heap. */
export function heapView(backend: WasmBackendLike, t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array {
  // The threaded build's memory is a SharedArrayBuffer that is replaced on growth; ask
  // the Memory for its current buffer rather than trusting the cached HEAPU8.
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  const size = tf.util.sizeFromShape(t.shape);
  if (t.dtype === 'float32') return new Float32Array(buffer, memoryOffset, size);
  if (t.dtype === 'int32') return new Int32Array(buffer, memoryOffset, size);
  if (t.dtype === 'bool') return new Uint8Array(buffer, memoryOffset, size);
  throw new Error(`wasm kernel: unsupported dtype ${t.dtype}`);
}

/**
 * UnsortedSegmentSum: out[s, ...] = Σ x[i, ...] over i with segmentIds[i] = s.
 * The gradient of tf.gather (embedding lookups) is this op; tfjs-cpu computes it with one
 * masked reduction per segment (O(segments·N·D)); this is one pass over x (O(N·D)).
 * segmentIds may have any rank r: it indexes x's first r dimensions. Ids outside
 * [0, numSegments) are dropped, as in TensorFlow.
 */
function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = args.attrs.numSegments as number;
  const backend = args.backend;
  const idsRank = segmentIds.shape.length;
  const inner = tf.util.sizeFromShape(x.shape.slice(idsRank)); // elements per segment row
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const outShape = [numSegments, ...x.shape.slice(idsRank)];
  const out = backend.makeOutput(outShape, x.dtype);
  const o = heapView(backend, out);
  const xs = heapView(backend, x);
  const ids = heapView(backend, segmentIds);
  o.fill(0); // malloc'd memory is not zeroed
  for (let i = 0; i < rows; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
  return out;
}

/**
 * Runs tfjs-cpu's kernel on copies of the inputs and copies the outputs back: correct for
 * every op wasm lacks, at the cost of two copies. Used only for ops training rarely hits
 * (Einsum, Conv2DBackpropFilter, …); hot ops get real kernels above.
 */
function cpuFallback(kernelName: string): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    const cpu = tf.engine().findBackend('cpu');
    if (!cpuKernel || !cpu) throw new Error(`no cpu kernel ${kernelName} to fall back on`);
    // tfjs-cpu greets its first write in Node with advice to install tfjs-node; here it
    // is only a helper of wasm, so the advice would mislead.
    (cpu as unknown as { firstUse: boolean }).firstUse = false;
    // Inputs are a name→tensor map, or an array for list ops (Einsum, AddN, Concat).
    const made: tf.TensorInfo[] = [];
    const copy = (t: tf.TensorInfo | undefined) => {
      if (!t) return t;
      const info = { dataId: cpu.write(wasm.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
      made.push(info);
      return info;
    };
    const cpuInputs = (Array.isArray(inputs)
      ? inputs.map(copy)
      : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, copy(t)]))) as tf.NamedTensorInfoMap;
    try {
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs: attrs ?? {}, backend: cpu });
      const outs = Array.isArray(result) ? result : [result];
      const copied = outs.map((o) => {
        const values = cpu.readSync(o.dataId) as tf.backend_util.TypedArray;
        cpu.disposeData(o.dataId);
        return wasm.makeOutput(o.shape, o.dtype, undefined, values);
      });
      return Array.isArray(result) ? copied : copied[0]!;
    } finally {
      for (const t of made) cpu.disposeData(t.dataId);
    }
  };
}

/** Ops the fallback must not take: complex numbers, strings and drawing have no wasm form. */
const NO_FALLBACK = new Set(['Complex', 'ComplexAbs', 'Real', 'Imag', 'FFT', 'IFFT', 'Draw', 'StaticRegexReplace']);

/** Names of the kernels this module registers for wasm (after registerWasmKernels). */
export const registeredWasmKernels: string[] = [];

/**
 * Registers the missing kernels for 'wasm'. Idempotent; kernels tfjs already has for
 * wasm are never replaced.
 */
export function registerWasmKernels(): void {
  const has = (name: string) => tf.getKernel(name, 'wasm') != null;
  const register = (kernelName: string, kernelFunc: tf.KernelFunc) => {
    if (has(kernelName)) return;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    registeredWasmKernels.push(kernelName);
  };
  register('UnsortedSegmentSum', unsortedSegmentSum as unknown as tf.KernelFunc);
  for (const { kernelName } of tf.getKernelsForBackend('cpu')) {
    if (!NO_FALLBACK.has(kernelName) && !kernelName.startsWith('Ragged') && !kernelName.startsWith('String')) {
      register(kernelName, cpuFallback(kernelName));
    }
  }
}

/**
 * Replaces wasm kernels by wrappers of themselves: `wrap(original)` gets the kernel it
 * replaces (to hand it the cases it does not take). Each keeps the original's setupFunc,
 * because other wasm kernels call the original functions directly and need it set up.
 */
export function wrapWasmKernels(wrappers: Record<string, (original: tf.KernelFunc) => unknown>): void {
  for (const [kernelName, wrap] of Object.entries(wrappers)) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
      kernelFunc: wrap(original.kernelFunc) as tf.KernelFunc,
    });
  }
}
