/**
 * The adapters' own file in a bonsai checkpoint, apart from the builders so that reading a
 * checkpoint (models/checkpoint.ts, reached before any backend loads) needs no tfjs.
 */
import { BonsaiError } from '../errors.ts';
import { readSafetensorsBuffer } from '../models/safetensors.ts';
import type { AdapterSet } from './adapters.ts';

/** The file in a bonsai checkpoint that holds the adapters by bonsai path (resume reads it; PEFT's files are for other tools). */
export const LORA_STATE = 'lora.safetensors';

/** Reads LORA_STATE bytes back into adapter values. `name` is the file in errors. */
export function readLoraState(bytes: Uint8Array, name: string): AdapterSet {
  const f = readSafetensorsBuffer(bytes, name);
  let scales: Record<string, number>;
  try {
    scales = JSON.parse(f.metadata.scales ?? '') as Record<string, number>;
  } catch {
    throw new BonsaiError(`${name}: no adapter scales in its metadata (not a bonsai LoRA state file?)`);
  }
  const out: AdapterSet = new Map();
  for (const [path, scale] of Object.entries(scales)) {
    const A = f.tensors[`${path}.lora_A`];
    const B = f.tensors[`${path}.lora_B`];
    if (!A || !B) throw new BonsaiError(`${name}: the adapter of ${path} lacks lora_A or lora_B`);
    out.set(path, { r: A.shape[0]!, scale, A: A.data as Float32Array, B: B.data as Float32Array });
  }
  return out;
}
