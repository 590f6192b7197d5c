import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { BonsaiError } from '../errors.ts';
import { chooseProductPath } from './blas.ts';
import type { BackendPreference, BackendReport, BackendSpec } from './report.ts';
import { registerWasmHeapProbe } from './oom.ts';
import { registerWasmKernels, registeredWasmKernels } from './wasm-kernels.ts';
import { installWasmOverrides } from './wasm-overrides.ts';
import { resolveThreads } from './threads.ts';
import { useThreadedWasm, wasmThreads } from './wasm-threads.ts';
import { activeAdapter, describeAdapterInfo, probeWebGpu, registerWebGpu } from './webgpu.ts';

export { linear, bmm, gelu } from './ops.ts';

export type { BackendPreference, BackendReport, BackendSpec } from './report.ts';
export { backendTags, describeBackend } from './report.ts';

/** Options for initBackend. */
export interface BackendOptions {
  /**
   * CPU threads for the wasm backend's XNNPACK pool and the BLAS it multiplies with.
   * Default: the spec's `threads`, else $BONSAI_THREADS, else the physical cores
   * (threads.ts). 1 loads tfjs's own single-threaded wasm build.
   */
  threads?: number;
  /** The same as `threads` (its older name). */
  wasmThreads?: number;
}

type Candidate = Exclude<BackendPreference, 'auto'>;
const ORDER: Candidate[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
/** The tfjs backend name each candidate registers. */
const TF_NAME: Record<Candidate, string> = { 'tensorflow-gpu': 'tensorflow', webgpu: 'webgpu', tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };
/** Optional native packages, imported only when tried (wasm is a dependency). */
const PACKAGE: Partial<Record<Candidate, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let current: { key: string; report: Promise<BackendReport> } | undefined;

// oom.ts reads the wasm heap through this probe, so that it needs no tfjs import of its own.
registerWasmHeapProbe(() => {
  try {
    if (tf.getBackend() !== 'wasm') return undefined;
    const w = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } } }).wasm;
    return w ? (w.wasmMemory?.buffer ?? w.HEAPU8.buffer).byteLength : undefined;
  } catch {
    return undefined;
  }
});

/**
 * Selects and initialises the tfjs backend. `auto` tries tfjs-node-gpu → webgpu (hardware
 * adapters only: a software one is slower than wasm) → tfjs-node → wasm → cpu and keeps
 * the first that loads and passes a smoke op; asking for one
 * explicitly that cannot load throws a BonsaiError with the reason. Idempotent: a second
 * call with the same preference returns the first call's report.
 */
export async function initBackend(spec: BackendPreference | BackendSpec, opts: BackendOptions = {}): Promise<BackendReport> {
  const pref = typeof spec === 'string' ? spec : spec.kind;
  const asked = opts.threads ?? opts.wasmThreads ?? (typeof spec === 'string' ? undefined : spec.threads);
  opts = asked === undefined ? {} : { threads: asked };
  const key = `${pref}:${asked ?? ''}`;
  if (current?.key === key) {
    const done = await current.report.catch(() => undefined);
    // Unless something switched tfjs's backend behind our back since.
    if (done && tf.getBackend() === done.name) return done;
  }
  const report = select(pref, opts);
  current = { key, report };
  report.catch(() => {
    if (current?.report === report) current = undefined; // let a later call retry
  });
  return report;
}

async function select(pref: BackendPreference, opts: BackendOptions): Promise<BackendReport> {
  // tfjs's PROD flag only silences its own console advice (e.g. "install our node backend"
  // on every cpu-backend start), which bonsai's backend report already covers.
  tf.env().set('PROD', true);
  if (!(pref === 'auto' || ORDER.includes(pref))) {
    throw new BonsaiError(`unknown backend '${pref}'`, { hint: `use one of: auto, ${ORDER.join(', ')}` });
  }
  const candidates = pref === 'auto' ? ORDER : [pref];
  const tried: BackendReport['tried'] = [];
  for (const c of candidates) {
    const reason = await tryCandidate(c, opts, pref === 'auto');
    tried.push(reason === undefined ? { name: c, ok: true } : { name: c, ok: false, reason });
    if (reason === undefined) {
      const adapter = c === 'webgpu' ? activeAdapter() : undefined;
      const base = { name: tf.getBackend(), requested: pref, tried, ...(adapter ? { adapter } : {}) };
      if (c === 'cpu') return { ...base, threads: 1 };
      if (c !== 'wasm') return base;
      const threads = wasmThreadCount(opts);
      const pool = wasmThreads();
      return { ...base, threads, ...(pool !== threads ? { wasmThreads: pool } : {}), products: chooseProductPath(threads) };
    }
  }
  const why = tried.map((t) => `${t.name}: ${t.reason}`).join('; ');
  throw new BonsaiError(
    pref === 'auto' ? `no tfjs backend could be loaded (${why})` : `backend '${pref}' is not available: ${tried[0]!.reason}`,
    { hint: pref === 'auto' ? undefined : `use backend: auto to fall back to one that loads (here: ${autoWouldPick(pref)})` },
  );
}

/**
 * What `auto` would pick after `failed`, judged without loading anything: the first native
 * package that is installed (it may still fail to load), else wasm, a dependency.
 */
function autoWouldPick(failed: Candidate): string {
  const require = createRequire(import.meta.url);
  for (const c of ['tensorflow-gpu', 'tensorflow'] as const) {
    if (c === failed) continue;
    try {
      require.resolve(PACKAGE[c]!);
      return `${c} if it loads, else wasm`;
    } catch {
      // not installed
    }
  }
  return 'wasm';
}

/** Loads one candidate; undefined when it is active and works, else why not. */
async function tryCandidate(c: Candidate, opts: BackendOptions, auto: boolean): Promise<string | undefined> {
  if (c === 'webgpu') return tryWebGpu(auto);
  const pkg = PACKAGE[c];
  if (pkg) {
    try {
      // A variable specifier: these packages are optional, so TypeScript must not resolve them.
      const spec: string = pkg;
      await import(spec);
    } catch (e) {
      return notInstalled(e, pkg) ? `${pkg} is not installed` : `${pkg} failed to load: ${message(e)}`;
    }
  }
  const name = TF_NAME[c];
  if (c === 'wasm') {
    registerWasmKernels();
    installWasmOverrides();
    const threads = wasmThreadCount(opts);
    if (wasmFactory !== threads && tf.engine().registry.wasm === undefined) {
      restoreWasm?.();
      restoreWasm = threads > 1 ? useThreadedWasm(threads) : undefined;
      wasmFactory = threads;
    }
    const failed = await activate(name);
    if (failed === undefined || !restoreWasm) return failed ?? smoke();
    // The threaded build did not start: fall back to tfjs's single-threaded one.
    restoreWasm();
    restoreWasm = undefined;
    wasmFactory = 1;
    const again = await activate(name);
    return again === undefined ? smoke() : `${again} (threaded build: ${failed})`;
  }
  // If tfjs-node-gpu loads but finds no GPU it still runs 'tensorflow' on the CPU; the
  // report names what runs, and the smoke op is the real test.
  return (await activate(name)) ?? smoke();
}

/**
 * Dawn → an adapter → tfjs-backend-webgpu → a smoke op. Under auto the adapter is first
 * looked at from a child process, and only a hardware one goes on.
 */
async function tryWebGpu(auto: boolean): Promise<string | undefined> {
  if (auto) {
    const seen = await probeWebGpu({ isolated: true });
    if (!seen.ok) return seen.reason;
    if (seen.adapter.software) {
      return `only a software adapter, ${describeAdapterInfo(seen.adapter)}: slower than wasm, so auto uses hardware adapters only (ask for backend: webgpu to use it)`;
    }
  }
  const probe = await probeWebGpu();
  if (!probe.ok) return probe.reason;
  return (await registerWebGpu()) ?? (await activate('webgpu')) ?? smoke();
}

/** Which wasm factory is registered (thread count), and how to put tfjs's own back. */
let wasmFactory = 1;
let restoreWasm: (() => void) | undefined;

async function activate(name: string): Promise<string | undefined> {
  try {
    if (!(await tf.setBackend(name))) return `initialising ${name} failed (see the warning above)`;
    await tf.ready();
    return undefined;
  } catch (e) {
    return `initialising ${name} failed: ${message(e)}`;
  }
}

/** The threads asked for (or the default), a BonsaiError when the count cannot run here. */
function wasmThreadCount(opts: BackendOptions): number {
  try {
    return resolveThreads(opts.threads);
  } catch (e) {
    throw new BonsaiError(`backend threads: ${message(e)}`, { hint: 'set backend.threads (or --threads) to at most the CPUs this machine has' });
  }
}

function smoke(): string | undefined {
  try {
    const got = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0, 0, 1], [2, 2])).add(1).dataSync());
    const want = [2, 3, 4, 5];
    if (want.some((w, i) => Math.abs(got[i]! - w) > 1e-6)) return `smoke op gave ${Array.from(got)}, expected ${want}`;
    return undefined;
  } catch (e) {
    return `smoke op failed: ${message(e)}`;
  }
}

function notInstalled(e: unknown, pkg: string): boolean {
  const code = (e as { code?: string }).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message(e).includes(pkg);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

export { registeredWasmKernels };
export { describeAdapterInfo, releaseWebGpu, type AdapterInfo } from './webgpu.ts';
