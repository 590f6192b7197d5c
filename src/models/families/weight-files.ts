/**
 * The safetensors files of a Hugging Face checkpoint directory, opened once each: one
 * `model.safetensors`, or the shards a `model.safetensors.index.json` names. Only headers are
 * read here; tensors are read one at a time, from their offsets, when a caller asks.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../../errors.ts';
import { openSafetensors, type SafetensorsReader } from '../safetensors.ts';
import { readJson } from './config.ts';

/** Tensor name (as stored) → the open file holding it. Close with `closeWeightFiles`. */
export function openWeightFiles(dir: string): Map<string, SafetensorsReader> {
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  const out = new Map<string, SafetensorsReader>();
  const opened = new Map<string, SafetensorsReader>();
  try {
    if (existsSync(indexPath)) {
      const map = readJson(indexPath).weight_map;
      if (!map || typeof map !== 'object') throw new BonsaiError(`${indexPath}: weight_map missing or not an object`);
      for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
        const shard = join(dir, String(file));
        if (!existsSync(shard)) throw new BonsaiError(`${indexPath}: weight_map names shard ${String(file)} (for ${name}), which is missing`);
        if (!opened.has(shard)) opened.set(shard, openSafetensors(shard));
        out.set(name, opened.get(shard)!);
      }
      return out;
    }
    if (!existsSync(single)) {
      const pickle = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is a pickle, which bonsai does not read: convert it to safetensors)' : '';
      throw new BonsaiError(`${dir}: neither model.safetensors nor model.safetensors.index.json found${pickle}`);
    }
    const file = openSafetensors(single);
    for (const n of file.names()) out.set(n, file);
    return out;
  } catch (e) {
    for (const f of opened.values()) f.close();
    throw e;
  }
}

/** Closes every file of `openWeightFiles`'s map. */
export function closeWeightFiles(files: Map<string, SafetensorsReader>): void {
  for (const f of new Set(files.values())) f.close();
}
