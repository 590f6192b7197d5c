/**
 * Writes a model of any registered family back in Hugging Face's layout (config.json +
 * model.safetensors, the family's tensor names and shapes, F32/F16/BF16) so Hugging Face tools
 * load bonsai's output. Written to a temporary directory and renamed into place: a failure
 * leaves nothing behind.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BonsaiError } from '../../errors.ts';
import type { CausalLM } from '../model.ts';
import { writeSafetensors, type SafetensorsInput } from '../safetensors.ts';
import { hfConfigOfDecoder } from './config.ts';
import type { DecoderConfig } from './family.ts';
import { familyOf } from './index.ts';
import { bonsaiToHf, hfTensorSpecs } from './tensors.ts';

export type HfWeightDtype = 'F32' | 'F16' | 'BF16';
const TORCH_DTYPE: Record<HfWeightDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Saves `values` (bonsai paths) to a new directory `dir`. `hfConfig` is the config.json the
 * model was read from (kept field for field, so fields bonsai does not interpret survive);
 * only `torch_dtype` is set to the written dtype (unless the family computes by it: Gemma). `files` are written beside (the tokenizer's:
 * tokenizer.json and its configs, so Hugging Face tools and `bonsai generate --hf` read the text too).
 */
export function saveHfCheckpoint(
  dir: string,
  config: DecoderConfig,
  hfConfig: Record<string, unknown>,
  values: Map<string, Float32Array>,
  dtype: HfWeightDtype = 'F32',
  files: Record<string, string> = {},
): void {
  const family = familyOf(config);
  const problem = family.saveProblem?.(config, values);
  if (problem) throw problem;
  if (existsSync(dir)) throw new BonsaiError(`${dir}: already exists; bonsai does not overwrite a checkpoint`);
  const specs = hfTensorSpecs(config);
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, data] of bonsaiToHf(config, values)) tensors[name] = { dtype, shape: specs.get(name)!.shape, data };
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${Date.now()}-${process.pid}.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt' });
    const torchDtype = family.dtypeSensitive && typeof hfConfig.torch_dtype === 'string' ? hfConfig.torch_dtype : TORCH_DTYPE[dtype];
    writeFileSync(join(tmp, 'config.json'), `${JSON.stringify({ ...hfConfig, torch_dtype: torchDtype }, null, 2)}\n`);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Saves a model in its family's Hugging Face layout to a new directory (config.json written from its config). */
export function saveHfModel(model: CausalLM, dir: string, opts: { dtype?: HfWeightDtype; files?: Record<string, string> } = {}): void {
  saveHfCheckpoint(dir, model.config, hfConfigOfDecoder(model.config), model.valuesSync(), opts.dtype, opts.files);
}

/** saveHfModel for a GPT-2 (kept for code written before every family saved through saveHfModel). */
export function saveHfGpt2(model: CausalLM, dir: string): void {
  if (model.config.family !== 'gpt2') throw new BonsaiError(`saving as Hugging Face GPT-2 supports GPT-2 models only; this model is ${model.config.family}`);
  saveHfModel(model, dir);
}
