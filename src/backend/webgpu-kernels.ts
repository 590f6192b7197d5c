import * as tf from '@tensorflow/tfjs';

/**
 * Fixes to tfjs-backend-webgpu 4.22 kernels for what bonsai runs.
 *   AddN — one shader binds every input as a storage buffer, and WebGPU allows 8 per
 *          shader stage unless more are asked for (tfjs does not ask): the global gradient
 *          norm (clip) adds one term per parameter (37 for a 2-layer model), and the
 *          pipeline fails validation. Summed here in chunks that fit, then the partials.
 * Every other op the trainers use has a webgpu kernel and tfjs-core's gradient (tested in
 * test/backend/webgpu.test.ts).
 */

interface WebGpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(id: object): void;
}

function addN(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WebGpuBackendLike;
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    // One binding is the output; keep one spare for the uniforms some builds bind as storage.
    const fit = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 2);
    let level = inputs;
    let owned: tf.TensorInfo[] = [];
    while (level.length > fit) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < level.length; i += fit) {
        const chunk = level.slice(i, i + fit);
        next.push(chunk.length === 1 ? chunk[0]! : (original({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo));
      }
      // Partials from the level before are freed once summed into this one.
      for (const t of owned) if (!next.includes(t)) backend.disposeData(t.dataId);
      owned = next.filter((t) => !inputs.includes(t));
      level = next;
    }
    const out = original({ ...args, inputs: level as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
    for (const t of owned) backend.disposeData(t.dataId);
    return out;
  };
}

const OVERRIDES: Record<string, (original: tf.KernelFunc) => tf.KernelFunc> = { AddN: addN };
let installed = false;

/** Replaces the webgpu kernels above. Idempotent; call once tfjs-backend-webgpu is imported. */
export function installWebGpuOverrides(): void {
  if (installed) return;
  installed = true;
  for (const [kernelName, make] of Object.entries(OVERRIDES)) {
    const original = tf.getKernel(kernelName, 'webgpu');
    if (!original) continue;
    tf.unregisterKernel(kernelName, 'webgpu');
    tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) });
  }
}
