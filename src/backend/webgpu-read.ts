import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';

/**
 * Synchronous reads (dataSync, arraySync) on the webgpu backend in Node.
 *
 * bonsai reads small values synchronously all through a training step (the loss, the
 * gradient norm for clipping, the non-finite check). tfjs-backend-webgpu's readSync goes
 * through an OffscreenCanvas, which Node lacks, and a GPU→CPU copy (GPUBuffer.mapAsync)
 * completes only when Dawn's events are processed on the event loop, so no plain JS can
 * wait for it. deasync runs the event loop (uv_run once) until the staging buffer reports
 * 'mapped', which it does within milliseconds; then the bytes are copied out as readSync
 * expects. Caveat: other callbacks due on the event loop (timers, sockets) may run during
 * such a read, as they would at an `await`.
 */

interface TensorData {
  values?: tf.backend_util.BackendValues | null;
  dtype: tf.DataType;
  resource?: GpuBuffer | null;
}
interface GpuBuffer {
  size: number;
  mapState: string;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
/** The parts of tfjs-backend-webgpu's WebGPUBackend this module uses. */
interface WebGpuBackendLike {
  tensorMap: { get(id: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBuffer; releaseBuffer(b: GpuBuffer): void };
  commandEncoder: { copyBufferToBuffer(a: GpuBuffer, ao: number, b: GpuBuffer, bo: number, size: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(id: object, values: tf.backend_util.BackendValues): tf.backend_util.BackendValues;
}

/** How long one synchronous read may wait before it is called a hang. */
const READ_TIMEOUT_MS = Number(process.env.BONSAI_WEBGPU_TIMEOUT_MS) || 60_000;

let loopWhile: ((pred: () => boolean) => void) | undefined;

/** Replaces WebGPUBackend.prototype.readSync; a missing deasync makes reads fail naming it. */
export function installSyncRead(backendClass: { prototype: object }): void {
  const proto = backendClass.prototype as { readSync(id: object): unknown; bonsaiSyncRead?: boolean };
  if (proto.bonsaiSyncRead) return;
  const original = proto.readSync;
  proto.readSync = function (this: WebGpuBackendLike, dataId: object) {
    const data = this.tensorMap.get(dataId);
    if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64' || !data.resource) {
      return original.call(this, dataId);
    }
    return readNow(this, dataId, data);
  };
  proto.bonsaiSyncRead = true;
}

function readNow(backend: WebGpuBackendLike, dataId: object, data: TensorData): tf.backend_util.BackendValues {
  const wait = deasync();
  const source = data.resource!;
  const staging = backend.bufferManager.acquireBuffer(source.size, GPUBufferUsage().COPY_DST | GPUBufferUsage().MAP_READ);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder.copyBufferToBuffer(source, 0, staging, 0, source.size);
  backend.submitQueue();
  let failed: unknown;
  staging.mapAsync(GPUMapMode().READ).catch((e: unknown) => (failed = e));
  const start = performance.now();
  wait(() => staging.mapState !== 'mapped' && failed === undefined && performance.now() - start < READ_TIMEOUT_MS);
  if (staging.mapState !== 'mapped') {
    throw new Error(
      failed !== undefined ? `webgpu: reading a tensor back failed: ${String(failed)}` : `webgpu: reading a tensor back got no answer in ${READ_TIMEOUT_MS / 1000} s (a hung GPU driver?)`,
    );
  }
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  backend.bufferManager.releaseBuffer(staging);
  return backend.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
}

function deasync(): (pred: () => boolean) => void {
  if (loopWhile) return loopWhile;
  try {
    loopWhile = (createRequire(import.meta.url)('deasync') as { loopWhile(pred: () => boolean): void }).loopWhile;
    return loopWhile;
  } catch (e) {
    throw new Error(
      `webgpu: synchronous reads (dataSync) need the optional 'deasync' package, which did not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); npm install deasync`,
    );
  }
}

// The WebGPU constants Dawn puts on globalThis (webgpu.ts), read when first needed.
const GPUBufferUsage = () => (globalThis as unknown as { GPUBufferUsage: { COPY_DST: number; MAP_READ: number } }).GPUBufferUsage;
const GPUMapMode = () => (globalThis as unknown as { GPUMapMode: { READ: number } }).GPUMapMode;
