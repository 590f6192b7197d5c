/**
 * `bonsai export --merge`: adapters folded into their base (merge.ts) and written in the
 * Hugging Face layout of the base's family — GPT-2 through hf-gpt2.ts's writer, the other
 * families through families/save.ts — so transformers loads the result with no PEFT.
 * Everything is written to a temporary directory and renamed into place: a failure leaves
 * no half-written output.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { readHfCheckpoint } from '../models/families/load.ts';
import { saveHfCheckpoint } from '../models/families/save.ts';
import { loadHfGpt2, saveHfGpt2Values } from '../models/hf-gpt2.ts';
import { paramSpecs } from '../models/layout.ts';
import { hfConfigOfDecoder } from '../models/families/hf-config-out.ts';
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
  if (hfConfig.model_type === 'gpt2') {
    const { model, config } = loadHfGpt2(baseDir);
    const values = model.valuesSync();
    model.dispose();
    const adapter = readPeftAdapter(adapterDir, config, baseDir);
    const merged = mergeAdapters(values, adapter.adapters, shapesOf(paramSpecs(config)));
    atomically(outDir, (tmp) => saveHfGpt2Values(config, merged, tmp));
    return { family: 'gpt2', merged: adapter.adapters.size };
  }
  const base = readHfCheckpoint(baseDir);
  const adapter = readPeftAdapter(adapterDir, base.config, baseDir);
  const merged = mergeAdapters(base.values, adapter.adapters, base.shapes);
  saveHfCheckpoint(outDir, base.config, hfConfig, merged);
  return { family: base.config.family, merged: adapter.adapters.size };
}

/**
 * Writes a bonsai checkpoint (a LoRA run's: base + adapters, merged; or any run's) as a Hugging
 * Face directory of its family: GPT-2's layout, or config.json (families/hf-config-out.ts) +
 * model.safetensors for the other families.
 */
export function exportMergedCheckpoint(checkpointDir: string, outDir: string): MergeExport {
  refuseExisting(outDir);
  const ck = loadCheckpoint(checkpointDir, { adapters: 'separate' });
  const merged = ck.adapters ? mergeAdapters(ck.weights, ck.adapters, shapesOf(paramSpecs(ck.config))) : ck.weights;
  const c = ck.config;
  if (c.family === 'gpt2') atomically(outDir, (tmp) => saveHfGpt2Values(c, merged, tmp));
  else {
    // A run with tokenizer hf carries its tokenizer files; the exported directory gets them too.
    const files = ck.tokenizer === 'hf' ? tokenizerFiles(createTokenizer('hf', checkpointDir)) : {};
    saveHfCheckpoint(outDir, c, hfConfigOfDecoder(c), merged, 'F32', files); // itself writes to a temp dir and renames
  }
  return { family: c.family, merged: ck.adapters?.size ?? 0 };
}

function shapesOf(specs: Array<{ path: string; shape: number[] }>): Map<string, number[]> {
  return new Map(specs.map((s) => [s.path, s.shape]));
}

function refuseExisting(outDir: string): void {
  if (existsSync(outDir)) throw new BonsaiError(`${outDir}: already exists; bonsai does not overwrite a model directory`, { hint: 'choose a new --out' });
}

function atomically(outDir: string, write: (tmp: string) => void): void {
  const tmp = join(dirname(outDir), `.${Date.now()}-${process.pid}.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    write(tmp);
    renameSync(tmp, outDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
