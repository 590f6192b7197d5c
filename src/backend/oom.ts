import { BonsaiError } from '../errors.ts';

/**
 * The backend's out-of-memory failures, recognised so the user reads "out of memory" and
 * what to change, never "internal error". wasm: emscripten aborts when its heap cannot
 * grow past the 4 GiB maximum (`RuntimeError: Aborted()`, sometimes with "Cannot enlarge
 * memory"); the cpu backend and JS: `RangeError: Array buffer allocation failed`;
 * tfjs-node: TensorFlow's "OOM" / "out of memory". tfjs-wasm aborts for little else
 * once a model has run, so an abort is reported as memory, saying so. The hint names the
 * settings of the command that ran (`command`: `train` has batch sizes, `generate` has not).
 */
export function outOfMemoryError(e: unknown, wasmHeap = wasmHeapBytes(), command = 'train'): BonsaiError | undefined {
  if (!(e instanceof Error)) return undefined;
  const msg = `${e.name}: ${e.message}`;
  // Near its 4 GiB maximum, tfjs-wasm's allocator can fail with an out-of-bounds access
  // instead of an abort (measured: a SmolLM2-shaped step without recompute, heap at 4.29 GB).
  const fullHeap = /memory access out of bounds/i.test(msg) && wasmHeap !== undefined && wasmHeap >= 0.9 * 2 ** 32;
  const wasmAbort = fullHeap || /Aborted\(|Cannot enlarge memory|could not grow|WebAssembly\.Memory/i.test(msg);
  const jsAlloc = e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer/i.test(e.message);
  const native = /\bOOM\b|out of memory|ResourceExhausted/i.test(msg);
  if (!wasmAbort && !jsAlloc && !native) return undefined;
  const what = wasmAbort ? 'the wasm backend aborted: its heap (4 GiB at most) ran out of memory' : 'the backend ran out of memory';
  return new BonsaiError(`${what} (${msg.split('\n')[0]})`, { cause: e, hint: OOM_HINTS[command] ?? OOM_HINTS.other });
}

/** What to change, by command: only settings that command has. */
const OOM_HINTS: Record<string, string> = {
  train:
    'lower trainer.batch_size (raise trainer.grad_accum to keep the tokens per step), set memory.recompute: true, ' +
    'a smaller memory.ce_chunk or data.seq_len, or train LoRA adapters; memory.budget_mb makes the pre-step check stricter (docs/memory.md)',
  generate: 'use fewer --prompt/--messages per call or a smaller --max-new-tokens, --backend cpu or tensorflow (the machine\'s memory instead of the 4 GiB wasm heap), or a smaller model',
  other: "use --backend cpu or tensorflow where the command has it (the machine's memory instead of the 4 GiB wasm heap), less data per call, or a smaller model",
};
OOM_HINTS.sweep = OOM_HINTS.train!;

/**
 * The wasm heap's size in bytes when wasm is the active backend (it never shrinks: its high-water
 * mark), else undefined. oom.ts stays free of tfjs — the CLI imports it on every command, also on
 * the validation path that must not load a backend — so backend/index.ts, which loads tfjs,
 * registers the probe (registerWasmHeapProbe) when it is imported.
 */
export function wasmHeapBytes(): number | undefined {
  return heapProbe();
}

let heapProbe: () => number | undefined = () => undefined;

/** Called by backend/index.ts with a probe that reads the active wasm backend's heap. */
export function registerWasmHeapProbe(probe: () => number | undefined): void {
  heapProbe = probe;
}
