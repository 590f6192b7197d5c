import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import { join } from 'node:path';
import workerThreads from 'node:worker_threads';

/**
 * The multi-threaded SIMD build of tfjs-backend-wasm, made to load in Node.
 *
 * tfjs refuses threads in Node (flag WASM_HAS_MULTITHREAD_SUPPORT is false there, see
 * tfjs#3830) because its loader hands Emscripten a Blob URL for the pthread worker, which
 * Node's worker_threads cannot load. The Emscripten glue itself supports Node, so we
 * register our own factory for the 'wasm' backend that:
 *   - writes the worker script to a real file and gives Emscripten its path;
 *   - gives workers the glue's file path (not a Blob) to importScripts;
 *   - sizes XNNPACK's pthreadpool: the C++ side creates it once, at static-init time,
 *     with os.cpus().length / 2 threads clamped to [1, 4] (it assumes hyper-threading),
 *     and `setThreadsCount` does not resize it afterwards, so we present a cpus() list
 *     of 2·threads entries while the module starts.
 * Every kernel registered for 'wasm' (tfjs's own and ours) works unchanged: the module
 * has the same exports as the single-threaded one.
 */

const require = createRequire(import.meta.url);

interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => number;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  wasmMemory?: { buffer: ArrayBufferLike };
  [k: string]: unknown;
}

/** Where the package's files are (resolved through Node, so hoisting does not matter). */
function packageDir(): string {
  return require.resolve('@tensorflow/tfjs-backend-wasm/package.json').replace(/package\.json$/, '');
}

/** Writes the pthread worker script once per tfjs version; atomic so parallel processes agree. */
function workerScriptPath(dir: string): string {
  const { wasmWorkerContents } = require(dir + 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  // The contents come from a template literal in which `\n` escapes became newlines;
  // put them back or the string literals inside break (tfjs does the same for its Blob).
  const text = wasmWorkerContents.replace(/\n/g, '\\n');
  const path = join(tmpdir(), `bonsai-tfjs-wasm-${tf.version_core}-worker.cjs`);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
  return path;
}

/** Instantiates the threaded module with `threads` XNNPACK threads (caller's thread included). */
async function instantiate(threads: number): Promise<EmscriptenModule> {
  const dir = packageDir();
  const factory = require(dir + 'wasm-out/tfjs-backend-wasm-threaded-simd.js') as (
    cfg: Record<string, unknown>,
  ) => Promise<EmscriptenModule>;
  const worker = workerScriptPath(dir);
  const realCpus = os.cpus;
  const RealWorker = workerThreads.Worker;
  // Pthread workers would otherwise inherit our execArgv (e.g. a TypeScript loader) and
  // pay its start-up eight times; the worker script is plain CommonJS.
  // They must not keep Node alive either: the main thread always waits for the pool's
  // work synchronously, so a pthread never has work of its own pending at exit, but
  // Emscripten ref()s a worker whenever it starts a thread on it.
  class PlainWorker extends RealWorker {
    constructor(file: string | URL, opts: workerThreads.WorkerOptions = {}) {
      super(file, { ...opts, execArgv: [] });
      super.unref();
    }
    override ref(): void {}
  }
  (workerThreads as { Worker: unknown }).Worker = PlainWorker;
  (os as { cpus: unknown }).cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);
  };
  const before = { u: process.listeners('uncaughtException'), r: process.listeners('unhandledRejection') };
  try {
    const mod = await factory({
      locateFile: (p: string, prefix: string) =>
        p.endsWith('.worker.js') ? worker : p.endsWith('.wasm') ? dir + 'dist/' + p : prefix + p,
      mainScriptUrlOrBlob: dir + 'wasm-out/tfjs-backend-wasm-threaded-simd.js',
    });
    return mod;
  } catch (e) {
    throw new Error(`threaded wasm did not start: ${e instanceof Error ? e.message : JSON.stringify(e)}`);
  } finally {
    // Emscripten's Node glue installs handlers that rethrow every uncaught error from
    // inside its minified source (printing a 40 kB line); Node's defaults are better.
    for (const l of process.listeners('uncaughtException')) if (!before.u.includes(l)) process.off('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.r.includes(l)) process.off('unhandledRejection', l);
    (os as { cpus: unknown }).cpus = realCpus;
    (workerThreads as { Worker: unknown }).Worker = RealWorker;
  }
}

/**
 * Re-registers the 'wasm' backend to load the threaded build with `threads` threads.
 * Must run before the 'wasm' backend is first initialised. Returns a restore function that
 * puts tfjs's own (single-threaded) factory back, for falling back when this one fails.
 */
export function useThreadedWasm(threads: number): () => void {
  const original = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    const mod = await instantiate(threads);
    mod.tfjs = {
      init: mod.cwrap('init', null, []),
      initWithThreadsCount: mod.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: mod.cwrap('get_threads_count', 'number', []),
      registerTensor: mod.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: mod.cwrap('dispose_data', null, ['number']),
      dispose: mod.cwrap('dispose', null, []),
    };
    tfwasm.setThreadsCount(threads);
    return new tfwasm.BackendWasm(mod as never);
  }, 2);
  return () => {
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', original, 2);
  };
}

/** Threads XNNPACK actually got (1 for the single-threaded build). */
export function wasmThreads(): number {
  try {
    return tfwasm.getThreadsCount();
  } catch {
    return 1;
  }
}
