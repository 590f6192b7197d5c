/**
 * The recipe's `lora:` section made real: adapters on the model the recipe built, fresh
 * (`targets`) or read from a PEFT directory (`from`); and a checkpoint's adapter files.
 */
import { BonsaiError } from '../errors.ts';
import type { LMConfig } from '../models/lm-config.ts';
import { safetensorsBuffer, type SafetensorsInput } from '../models/safetensors.ts';
import { initialAdapters, LoraAdapters, type AdapterSet } from './adapters.ts';
import { adaptersOf, attachLora, type LoraHost } from './attach.ts';
import { loraTargets, type LoraSection } from './kinds.ts';
import { peftFiles, readPeftAdapter } from './peft.ts';
import { loraScale } from './settings.ts';
import { LORA_STATE } from './state.ts';

export { LORA_STATE, readLoraState } from './state.ts';


type Host = LoraHost & { config: LMConfig };

/** The base model's name for adapter_config.json: the directory the recipe loaded it from, if any. */
export function baseModelName(init: Record<string, unknown>): string | undefined {
  for (const key of ['hf', 'hf_gpt2', 'checkpoint']) if (typeof init[key] === 'string') return init[key] as string;
  return undefined;
}

/**
 * Puts the section's adapters on `model` (attach.ts) and returns them; the caller disposes
 * them after the model's last forward. `seed` draws lora_A (and the dropout masks).
 */
export function attachRecipeLora(l: LoraSection, model: Host, seed: number, base?: string): LoraAdapters {
  const shapes = new Map([...model.params].map(([p, v]) => [p, v.shape]));
  let values: AdapterSet;
  let peft: LoraAdapters['peft'];
  if (l.from) {
    const a = readPeftAdapter(l.from, model.config, base);
    values = a.adapters;
    peft = { r: a.r, alpha: a.alpha, dropout: a.dropout, rslora: a.rslora, base: a.base ?? base };
  } else {
    const targets = loraTargets(l.targets!, shapes);
    if (!targets.length) throw new BonsaiError(`lora.targets: ${l.targets!.join(', ')} select no adaptable weight`);
    values = initialAdapters(new Map(targets.map((t) => [t, shapes.get(t)!])), l.r, loraScale(l.alpha, l.r, l.rslora), seed);
    peft = { r: l.r, alpha: l.alpha, dropout: l.dropout, rslora: l.rslora, base };
  }
  const adapters = new LoraAdapters(new Map([...values.keys()].map((t) => [t, shapes.get(t)!])), values, l.from ? peft.dropout : l.dropout, seed);
  adapters.peft = peft;
  attachLora(model, adapters);
  return adapters;
}

/**
 * The files a checkpoint of `model` adds when it carries adapters: PEFT's two files (for
 * PEFT, vLLM, `lora.from`) and LORA_STATE (adapters by bonsai path with their scales, for
 * --resume and for readers that merge). Empty without adapters.
 */
export function adapterCheckpointFiles(model: Host): Record<string, Buffer | string> {
  const a = adaptersOf(model);
  if (!a) return {};
  const values = a.valuesSync();
  const tensors: Record<string, SafetensorsInput> = {};
  const scales: Record<string, number> = {};
  for (const [path, v] of values) {
    const [inDim, outDim] = model.params.get(path)!.shape;
    tensors[`${path}.lora_A`] = { dtype: 'F32', shape: [v.r, inDim!], data: v.A };
    tensors[`${path}.lora_B`] = { dtype: 'F32', shape: [outDim!, v.r], data: v.B };
    scales[path] = v.scale;
  }
  return { ...peftFiles(values, model.config, a.peft, a.peft.base), [LORA_STATE]: safetensorsBuffer(tensors, { format: 'bonsai-lora-1', scales: JSON.stringify(scales) }) };
}
