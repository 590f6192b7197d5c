/**
 * Writes a family decoder back in Hugging Face's layout (config.json + model.safetensors,
 * HF tensor names and shapes, F32/F16/BF16) so Hugging Face tools load bonsai's output.
 * Written to a temporary directory and renamed into place: a failure leaves nothing behind.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BonsaiError } from '../../errors.ts';
import { writeSafetensors, type SafetensorsInput } from '../safetensors.ts';
import type { DecoderConfig } from './config.ts';
import { bonsaiToHf, hfTensorSpecs } from './names.ts';

export type HfWeightDtype = 'F32' | 'F16' | 'BF16';
const TORCH_DTYPE: Record<HfWeightDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Saves `values` (bonsai paths) to a new directory `dir`. `hfConfig` is the config.json the
 * model was read from (kept field for field, so fields bonsai does not interpret survive);
 * only `torch_dtype` is set to the written dtype. `files` are written beside (the tokenizer's:
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
  if (existsSync(dir)) throw new BonsaiError(`${dir}: already exists; bonsai does not overwrite a checkpoint`);
  const specs = hfTensorSpecs(config);
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, data] of bonsaiToHf(config, values)) tensors[name] = { dtype, shape: specs.get(name)!.shape, data };
  const tmp = join(dirname(dir), `.${Date.now()}-${process.pid}.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt' });
    writeFileSync(join(tmp, 'config.json'), `${JSON.stringify({ ...hfConfig, torch_dtype: TORCH_DTYPE[dtype] }, null, 2)}\n`);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
