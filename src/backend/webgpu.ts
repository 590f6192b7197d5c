import * as tf from '@tensorflow/tfjs';
import { diagnoseNoAdapter } from './webgpu-diagnose.ts';
import { installWebGpuOverrides } from './webgpu-kernels.ts';
import { probeInChild, type ProbedAdapter } from './webgpu-probe.ts';
import { installSyncRead } from './webgpu-read.ts';

/**
 * tfjs's WebGPU backend in Node, on Dawn (the `webgpu` package, whose prebuilt dawn.node
 * ships inside it): Vulkan on Linux, Metal on macOS, D3D12 on Windows. Both packages are
 * optional dependencies, imported only when webgpu is tried.
 *
 * tfjs-backend-webgpu registers itself at import only if `navigator.gpu` exists, and its
 * kernels read the WebGPU constants (GPUBufferUsage, …) as globals, so both are put on
 * globalThis first.
 */

/** The adapter a run computes on, as WebGPU describes it (GPUAdapterInfo). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP): correct but slow. */
  software: boolean;
}

/** What probing found: an adapter, or why there is none (naming what to install). */
export type WebGpuProbe = { ok: true; adapter: AdapterInfo } | { ok: false; reason: string };

interface DawnAdapter {
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface DawnGpu {
  requestAdapter(opts?: { powerPreference?: string }): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

/** Adapter and device requests that never answer must not hang a run (a broken driver can). */
const TIMEOUT_MS = Number(process.env.BONSAI_WEBGPU_TIMEOUT_MS) || 60_000;
const INSTALL = 'npm install webgpu @tensorflow/tfjs-backend-webgpu@~4.22.0 deasync';

let gpu: DawnGpu | undefined;
/** The adapter tfjs's backend asked for last (it requests its own; we report that one). */
let taken: DawnAdapter | undefined;

/**
 * Asks Dawn for the high-performance adapter, without starting tfjs's backend. `isolated`:
 * in a child process (webgpu-probe.ts), so that nothing of Dawn is loaded here unless the
 * caller goes on to use the adapter.
 */
export async function probeWebGpu(opts: { isolated?: boolean } = {}): Promise<WebGpuProbe> {
  if (opts.isolated) {
    const seen = probeInChild(TIMEOUT_MS);
    return 'reason' in seen ? { ok: false, reason: seen.reason } : { ok: true, adapter: adapterInfoOf(seen.adapter) };
  }
  let dawn: DawnModule;
  try {
    const spec: string = 'webgpu'; // optional: TypeScript must not resolve it
    dawn = (await import(spec)) as DawnModule;
  } catch (e) {
    const missing = (e as { code?: string }).code?.includes('MODULE_NOT_FOUND') && message(e).includes("'webgpu'");
    return { ok: false, reason: missing ? `the 'webgpu' package is not installed (${INSTALL})` : `Dawn (the webgpu package's dawn.node) failed to load: ${message(e)}` };
  }
  try {
    gpu ??= dawn.create([]);
    for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) Object.assign(globalThis, { [name]: value });
    const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), 'requesting a WebGPU adapter');
    if (!adapter) return { ok: false, reason: diagnoseNoAdapter() };
    return { ok: true, adapter: describeAdapter(adapter) };
  } catch (e) {
    return { ok: false, reason: message(e) };
  }
}

/**
 * Imports tfjs-backend-webgpu (after probeWebGpu succeeded) so that tf.setBackend('webgpu')
 * works; undefined when ready, else why not.
 */
export async function registerWebGpu(): Promise<string | undefined> {
  if (!gpu) return 'Dawn is not loaded (probeWebGpu first)';
  if (tf.engine().registryFactory.webgpu) return undefined;
  const dawnGpu = gpu;
  const navigatorGpu = {
    requestAdapter: async (opts?: { powerPreference?: string }) => {
      taken = (await withTimeout(dawnGpu.requestAdapter(opts), 'requesting a WebGPU adapter')) ?? undefined;
      return taken ?? null;
    },
  };
  // Node ≥ 21 has a navigator of its own (a getter): replace it with a plain object that keeps
  // the fields tfjs-core reads (its getters work only on Node's own object, so they are copied).
  const nav = (globalThis as { navigator?: Record<string, unknown> }).navigator;
  const kept = nav ? Object.fromEntries(['userAgent', 'platform', 'language', 'hardwareConcurrency'].map((k) => [k, nav[k]])) : {};
  Object.defineProperty(globalThis, 'navigator', { value: { ...kept, gpu: navigatorGpu }, configurable: true, writable: true });
  try {
    const spec: string = '@tensorflow/tfjs-backend-webgpu';
    const mod = (await import(spec)) as { WebGPUBackend?: { prototype: object }; default?: { WebGPUBackend?: { prototype: object } } };
    const backendClass = mod.WebGPUBackend ?? mod.default?.WebGPUBackend;
    if (!backendClass) return '@tensorflow/tfjs-backend-webgpu has no WebGPUBackend export (a version other than 4.22?)';
    installSyncRead(backendClass);
    installWebGpuOverrides();
  } catch (e) {
    const missing = (e as { code?: string }).code?.includes('MODULE_NOT_FOUND') && message(e).includes('tfjs-backend-webgpu');
    return missing ? `@tensorflow/tfjs-backend-webgpu is not installed (${INSTALL})` : `@tensorflow/tfjs-backend-webgpu failed to load: ${message(e)}`;
  }
  return tf.engine().registryFactory.webgpu ? undefined : '@tensorflow/tfjs-backend-webgpu did not register (navigator.gpu not seen)';
}

/** The adapter the active webgpu backend runs on (undefined before it started). */
export function activeAdapter(): AdapterInfo | undefined {
  return taken ? describeAdapter(taken) : undefined;
}

/**
 * Destroys the webgpu backend's GPU device and forgets the backend, so nothing native keeps
 * the process alive and its GPU memory is returned. A later initBackend('webgpu') starts afresh.
 */
export function releaseWebGpu(): void {
  const registry = tf.engine().registry as Record<string, { device?: { destroy(): void } } | undefined>;
  const backend = registry.webgpu;
  if (!backend) return;
  const device = backend.device;
  const factory = tf.engine().registryFactory.webgpu;
  tf.removeBackend('webgpu'); // disposes the backend's buffers (and deactivates it if active)
  device?.destroy();
  if (factory) tf.registerBackend('webgpu', factory.factory, factory.priority);
  taken = undefined;
}

/** "mesa software (llvmpipe: Mesa 25.0.7 …), software adapter". */
export function describeAdapterInfo(a: AdapterInfo): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown vendor';
  const what = a.description || a.device;
  return `${name}${what ? ` (${what})` : ''}${a.software ? ', software adapter' : ''}`;
}

function describeAdapter(adapter: DawnAdapter): AdapterInfo {
  const i = adapter.info ?? {};
  return adapterInfoOf({ ...pick(i), isFallbackAdapter: i.isFallbackAdapter ?? adapter.isFallbackAdapter });
}

/** GPUAdapterInfo's fields are getters on Dawn's object: copied out one by one. */
function pick(i: DawnAdapter['info']): ProbedAdapter {
  return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description };
}

function adapterInfoOf(i: ProbedAdapter): AdapterInfo {
  const fields = { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' };
  const text = `${fields.architecture} ${fields.device} ${fields.description}`;
  const software =
    Boolean(i.isFallbackAdapter) ||
    fields.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader|microsoft basic render|\bwarp\b/i.test(text);
  return { ...fields, software };
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no answer in ${TIMEOUT_MS / 1000} s (a hung GPU driver?)`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}
