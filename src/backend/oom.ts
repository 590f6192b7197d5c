import { BonsaiError } from '../errors.ts';

/**
 * The backend's out-of-memory failures, recognised so the user reads "out of memory" and
 * what to change, never "internal error". wasm: emscripten aborts when its heap cannot
 * grow past the 4 GiB maximum (`RuntimeError: Aborted()`, sometimes with "Cannot enlarge
 * memory"); the cpu backend and JS: `RangeError: Array buffer allocation failed`;
 * tfjs-node: TensorFlow's "OOM" / "out of memory". tfjs-wasm aborts for little else
 * once a model has run, so an abort is reported as memory, saying so.
 */
export function outOfMemoryError(e: unknown): BonsaiError | undefined {
  if (!(e instanceof Error)) return undefined;
  const msg = `${e.name}: ${e.message}`;
  const wasmAbort = /Aborted\(|Cannot enlarge memory|could not grow|WebAssembly\.Memory/i.test(msg);
  const jsAlloc = e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer/i.test(e.message);
  const native = /\bOOM\b|out of memory|ResourceExhausted/i.test(msg);
  if (!wasmAbort && !jsAlloc && !native) return undefined;
  const what = wasmAbort ? 'the wasm backend aborted: its heap (4 GiB at most) ran out of memory' : 'the backend ran out of memory';
  return new BonsaiError(`${what} (${msg.split('\n')[0]})`, {
    cause: e,
    hint:
      'lower trainer.batch_size (raise trainer.grad_accum to keep the tokens per step), set memory.recompute: true, ' +
      'a smaller memory.ce_chunk or data.seq_len, or train LoRA adapters; memory.budget_mb makes the pre-step check stricter (docs/memory.md)',
  });
}
