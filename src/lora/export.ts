/**
 * `bonsai export --merge`: adapters folded into their base (merge.ts) and written in the
 * Hugging Face layout of the base's family (families/save.ts), so transformers loads the
 * result with no PEFT. Everything is written to a temporary directory and renamed into
 * place: a failure leaves no half-written output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { hfConfigOfDecoder } from '../models/families/config.ts';
import { readHfCheckpoint } from '../models/families/load.ts';
import { saveHfCheckpoint } from '../models/families/save.ts';
import { paramSpecs } from '../models/layout.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { createTokenizer, tokenizerFiles } from '../models/tokenizer.ts';
import { mergeAdapters } from './merge.ts';
import { readPeftAdapter } from './peft.ts';

/** What an export wrote. */
export interface MergeExport {
  family: string;
  /** Weights that changed (the adapted ones). */
  merged: number;
}

/** Merges the PEFT adapter in `adapterDir` into the HF model in `baseDir`; writes the merged model to `outDir` (which must not exist). */
export function exportMergedAdapter(baseDir: string, adapterDir: string, outDir: string): MergeExport {
  refuseExisting(outDir);
  const hfConfig = JSON.parse(readFileSync(join(baseDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const base = readHfCheckpoint(baseDir);
  const adapter = readPeftAdapter(adapterDir, base.config, baseDir);
  const merged = mergeAdapters(base.values, adapter.adapters, base.shapes);
  saveHfCheckpoint(outDir, base.config, hfConfig, merged);
  return { family: base.config.family, merged: adapter.adapters.size };
}

/**
 * Writes a bonsai checkpoint (a LoRA run's: base + adapters, merged; or any run's) as a Hugging
 * Face directory of its family: config.json (families/config.ts) + model.safetensors, and the
 * tokenizer files of a run with tokenizer hf.
 */
export function exportMergedCheckpoint(checkpointDir: string, outDir: string): MergeExport {
  refuseExisting(outDir);
  const ck = loadCheckpoint(checkpointDir, { adapters: 'separate' });
  const merged = ck.adapters ? mergeAdapters(ck.weights, ck.adapters, shapesOf(paramSpecs(ck.config))) : ck.weights;
  const c = ck.config;
  const files = ck.tokenizer === 'hf' ? tokenizerFiles(createTokenizer('hf', checkpointDir)) : {};
  saveHfCheckpoint(outDir, c, hfConfigOfDecoder(c), merged, 'F32', files); // itself writes to a temp dir and renames
  return { family: c.family, merged: ck.adapters?.size ?? 0 };
}

function shapesOf(specs: Array<{ path: string; shape: number[] }>): Map<string, number[]> {
  return new Map(specs.map((s) => [s.path, s.shape]));
}

function refuseExisting(outDir: string): void {
  if (existsSync(outDir)) throw new BonsaiError(`${outDir}: already exists; bonsai does not overwrite a model directory`, { hint: 'choose a new --out' });
}
