/**
 * PEFT's LoRA files (../shared/specs/hf-formats.md): `adapter_config.json` and
 * `adapter_model.safetensors` with `base_model.model.<module>.lora_A.weight` [r, in] and
 * `….lora_B.weight` [out, r]; the update is scale·B·A, scale = lora_alpha/r (or /√r).
 *
 * A module that holds several bonsai weights (GPT-2's c_attn = [W_Q | W_K | W_V]) is written
 * as one adapter of rank Σr: A stacked, B block-diagonal, with `rank_pattern`/`alpha_pattern`
 * so PEFT's scale is exact. Read back, each weight gets the whole A and its rows of B: the
 * same update (deltas equal), at that module's rank.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BonsaiError } from '../errors.ts';

import type { LMConfig } from '../models/lm-config.ts';
import { readSafetensorsBuffer, safetensorsBuffer, type SafetensorsInput, type SafetensorsTensor } from '../models/safetensors.ts';
import type { AdapterSet, AdapterValues } from './adapters.ts';
import { peftModules, type PeftModule } from './modules.ts';
import { loraScale, type LoraSettings } from './settings.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';

/** The two PEFT files for `adapters`, as bytes to write. `base`: the base model's name or path, when known. */
export function peftFiles(adapters: AdapterSet, config: LMConfig, s: Pick<LoraSettings, 'r' | 'alpha' | 'dropout' | 'rslora'>, base?: string): Record<string, Buffer | string> {
  const tensors: Record<string, SafetensorsInput> = {};
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  const used: PeftModule[] = [];
  const modules = peftModules(config);
  const defaultScale = loraScale(s.alpha, s.r, s.rslora);
  for (const m of modules) {
    const parts = m.parts.filter((p) => adapters.has(p.path));
    if (!parts.length) continue;
    used.push(m);
    const vals = parts.map((p) => adapters.get(p.path)!);
    const R = vals.reduce((n, v) => n + v.r, 0);
    const scale = vals[0]!.scale;
    const outTotal = m.parts.reduce((n, p) => n + p.outDim, 0);
    const A = new Float32Array(R * m.inDim); // [R, in]: each part's A stacked
    const B = new Float32Array(outTotal * R); // [out, R]: each part's B in its rows and columns
    let col = 0;
    parts.forEach((p, k) => {
      const v = vals[k]!;
      A.set(v.A, col * m.inDim);
      const fold = v.scale / scale; // 1 unless the parts were read with different scales
      for (let o = 0; o < p.outDim; o++) for (let j = 0; j < v.r; j++) B[(p.offset + o) * R + col + j] = v.B[o * v.r + j]! * fold;
      col += v.r;
    });
    tensors[`${PREFIX}${m.name}.lora_A.weight`] = { dtype: 'F32', shape: [R, m.inDim], data: A };
    tensors[`${PREFIX}${m.name}.lora_B.weight`] = { dtype: 'F32', shape: [outTotal, R], data: B };
    if (R !== s.r || scale !== defaultScale) {
      rankPattern[m.name] = R;
      alphaPattern[m.name] = s.rslora ? scale * Math.sqrt(R) : scale * R;
    }
  }
  const config_ = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: base ?? null,
    r: s.r,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    target_modules: targetModules(used, modules),
    bias: 'none',
    use_rslora: s.rslora,
    fan_in_fan_out: used.some((m) => m.fanInFanOut),
    modules_to_save: null,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    init_lora_weights: true,
    inference_mode: true,
  };
  return { [ADAPTER_WEIGHTS]: safetensorsBuffer(tensors, { format: 'pt' }), [ADAPTER_CONFIG]: `${JSON.stringify(config_, null, 2)}\n` };
}

/**
 * target_modules: the suffixes when the adapter covers every module with them (PEFT then
 * adapts exactly these), else a regex string of the exact names (PEFT full-matches it).
 */
function targetModules(used: PeftModule[], all: PeftModule[]): string[] | string {
  const suffixes = [...new Set(used.map((m) => m.suffix))];
  const covered = all.filter((m) => suffixes.includes(m.suffix)).length === used.length;
  return covered ? suffixes : `^(${used.map((m) => m.name.replace(/\./g, '\\.')).join('|')})$`;
}

/** A PEFT adapter read into bonsai's terms. */
export interface PeftAdapter {
  adapters: AdapterSet;
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  base?: string;
}

type Json = Record<string, unknown>;

/**
 * Reads a PEFT LoRA adapter directory for a model with `config`. Refuses an adapter made for
 * another base: a module this model does not have, a shape that does not fit, or (when both
 * are known) a different `base_model_name_or_path` than `expectBase`.
 */
export function readPeftAdapter(dir: string, config: LMConfig, expectBase?: string): PeftAdapter {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  const wPath = join(dir, ADAPTER_WEIGHTS);
  for (const p of [cfgPath, wPath]) if (!existsSync(p)) throw new BonsaiError(`${p} is missing: a PEFT adapter directory holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS}`);
  let cfg: Json;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Json;
  } catch (e) {
    throw new BonsaiError(`not valid JSON (${(e as Error).message})`, { where: cfgPath });
  }
  if (cfg.peft_type !== 'LORA') throw new BonsaiError(`peft_type is ${JSON.stringify(cfg.peft_type)}; bonsai reads LORA adapters only`, { where: cfgPath });
  const r = cfg.r as number;
  const alpha = (cfg.lora_alpha ?? r) as number;
  if (!Number.isInteger(r) || r <= 0 || typeof alpha !== 'number') throw new BonsaiError(`r and lora_alpha must be numbers (got ${JSON.stringify(cfg.r)}, ${JSON.stringify(cfg.lora_alpha)})`, { where: cfgPath });
  if (cfg.modules_to_save) throw new BonsaiError('modules_to_save is set: the adapter carries full copies of modules, which bonsai does not read', { where: cfgPath });
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw new BonsaiError(`bias is "${cfg.bias}": the adapter trains biases, which bonsai does not read (only bias: none)`, { where: cfgPath });
  const base = typeof cfg.base_model_name_or_path === 'string' ? cfg.base_model_name_or_path : undefined;
  if (base && expectBase && basename(base.replace(/\/+$/, '')) !== basename(expectBase.replace(/\/+$/, ''))) {
    throw new BonsaiError(`this adapter was made for base model "${base}", but the model here is "${expectBase}"`, { where: cfgPath, hint: 'load it on the model it was trained on' });
  }
  const rslora = cfg.use_rslora === true;
  const file = readSafetensorsBuffer(readFileSync(wPath), wPath);
  const byName = new Map(peftModules(config).map((m) => [m.name, m]));
  const adapters: AdapterSet = new Map();
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const name of Object.keys(file.tensors)) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(name);
    if (!m) {
      problems.push(`unexpected tensor ${name} (bonsai reads lora_A/lora_B weights only)`);
      continue;
    }
    if (m[2] === 'B' || seen.has(m[1]!)) continue;
    seen.add(m[1]!);
    const mod = byName.get(m[1]!);
    if (!mod) {
      problems.push(`${m[1]} is not a module of this model (adaptable modules look like ${[...byName.keys()].slice(0, 3).join(', ')}, …)`);
      continue;
    }
    const got = readModule(file.tensors, name, mod, patternValue(cfg.rank_pattern, mod.name) ?? r, patternValue(cfg.alpha_pattern, mod.name) ?? alpha, rslora);
    if (typeof got === 'string') problems.push(got);
    else for (const [path, v] of got) adapters.set(path, v);
  }
  if (problems.length) throw new BonsaiError(`this adapter does not fit this model (made for another base?): ${problems.join('; ')}`, { where: wPath });
  if (!adapters.size) throw new BonsaiError('the adapter holds no lora_A/lora_B weights', { where: wPath });
  return { adapters, r, alpha, rslora, dropout: typeof cfg.lora_dropout === 'number' ? cfg.lora_dropout : 0, base };
}

/** One module's A and B checked against its shape, split into its bonsai weights; a string says what is wrong. */
function readModule(tensors: Record<string, SafetensorsTensor>, aName: string, mod: PeftModule, r: number, alpha: number, rslora: boolean): Map<string, AdapterValues> | string {
  const bName = aName.replace('.lora_A', '.lora_B');
  const a = tensors[aName];
  const b = tensors[bName];
  if (!a || !b) return `${mod.name} has lora_A without lora_B`;
  if (![a, b].every((t) => ['F32', 'F16', 'BF16', 'F64'].includes(t.dtype))) return `${mod.name}: lora weights are ${a.dtype}/${b.dtype}, expected a float type`;
  const aData = a.data as ArrayLike<number>;
  const bData = b.data as ArrayLike<number>;
  const outTotal = mod.parts.reduce((n, p) => n + p.outDim, 0);
  const R = a.shape[0]!;
  if (a.shape.length !== 2 || a.shape[1] !== mod.inDim || b.shape.length !== 2 || b.shape[0] !== outTotal || b.shape[1] !== R) {
    return `${mod.name}: lora_A is [${a.shape}] and lora_B [${b.shape}], this model needs [r, ${mod.inDim}] and [${outTotal}, r]`;
  }
  if (R !== r) return `${mod.name}: rank ${R} in the file, ${r} in adapter_config.json`;
  const scale = loraScale(alpha, r, rslora);
  const A = Float32Array.from(aData);
  const out = new Map<string, AdapterValues>();
  for (const p of mod.parts) {
    const B = Float32Array.from({ length: p.outDim * R }, (_, k) => bData[p.offset * R + k]!);
    out.set(p.path, { r: R, scale, A: A.slice(), B });
  }
  return out;
}

/** PEFT's rank_pattern / alpha_pattern lookup: a key matches a module whose name is it or ends in `.key`. */
function patternValue(pattern: unknown, module: string): number | undefined {
  if (!pattern || typeof pattern !== 'object') return undefined;
  for (const [key, v] of Object.entries(pattern as Record<string, number>)) {
    if (new RegExp(`^(.*\\.)?(${key})$`).test(module)) return v;
  }
  return undefined;
}
