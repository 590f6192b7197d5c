/**
 * Reads a Hugging Face checkpoint directory of any family in config.ts: `config.json` plus
 * `model.safetensors` or a sharded `model.safetensors.index.json`; F32, F16 and BF16 tensors
 * all arrive as float32 (safetensors.ts widens the half types). Every problem names the file
 * and the field or tensor: a missing shard, a missing or unexpected tensor, a wrong shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../../errors.ts';
import { readSafetensors, type SafetensorsTensor } from '../safetensors.ts';
import { decoderConfigFromHf, type DecoderConfig } from './config.ts';
import { FamilyDecoder } from './decoder.ts';
import { hfTensorSpecs, hfToBonsai, type HfTensorSpec } from './names.ts';

/** Buffers HF keeps in some older checkpoints that carry no weights (recomputed at load). */
const IGNORED = [/\.rotary_emb\.inv_freq$/, /\.attention\.bias$/, /\.attention\.masked_bias$/];

export interface HfCheckpoint {
  config: DecoderConfig;
  /** Parameter values by bonsai path, and their shapes. */
  values: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new BonsaiError(`${path}: missing`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new BonsaiError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Tensor name → the file holding it (one file, or the index's weight_map). */
function weightFiles(dir: string): Map<string, string> {
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    const map = readJson(indexPath).weight_map;
    if (!map || typeof map !== 'object') throw new BonsaiError(`${indexPath}: weight_map missing or not an object`);
    const out = new Map<string, string>();
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      const shard = join(dir, String(file));
      if (!existsSync(shard)) throw new BonsaiError(`${indexPath}: weight_map names shard ${String(file)} (for ${name}), which is missing`);
      out.set(name, shard);
    }
    return out;
  }
  if (!existsSync(single)) throw new BonsaiError(`${dir}: neither model.safetensors nor model.safetensors.index.json found`);
  return new Map(Object.keys(readSafetensors(single).tensors).map((n) => [n, single]));
}

/** Reads and checks a checkpoint; `contextLength` is the longest sequence bonsai will run. */
export function readHfCheckpoint(dir: string, opts: { contextLength?: number } = {}): HfCheckpoint {
  const configPath = join(dir, 'config.json');
  const config = decoderConfigFromHf(readJson(configPath), configPath, opts.contextLength);
  const specs = hfTensorSpecs(config);
  const files = weightFiles(dir);
  const cache = new Map<string, ReturnType<typeof readSafetensors>>();
  const problems: BonsaiError[] = [];
  const hf = new Map<string, Float32Array>();
  /** A tensor by name, each file read once. */
  const tensor = (name: string) => {
    const file = files.get(name)!;
    if (!cache.has(file)) cache.set(file, readSafetensors(file));
    return cache.get(file)!.tensors[name];
  };
  for (const [name, spec] of specs) {
    const file = files.get(name);
    if (!file) {
      problems.push(new BonsaiError(`tensor ${name} [${spec.shape}] is missing`, { where: dir }));
      continue;
    }
    const t = tensor(name);
    if (!t) {
      problems.push(new BonsaiError(`tensor ${name} is listed in the index but not in the file`, { where: file }));
      continue;
    }
    if (!['F32', 'F16', 'BF16'].includes(t.dtype)) {
      problems.push(new BonsaiError(`tensor ${name} has dtype ${t.dtype}; bonsai reads F32, F16 and BF16`, { where: file }));
    } else if (t.shape.join(',') !== spec.shape.join(',')) {
      problems.push(new BonsaiError(`tensor ${name} has shape [${t.shape}], config.json implies [${spec.shape}]`, { where: file }));
    } else hf.set(name, t.data as Float32Array);
  }
  checkTiedCopy(config, files, tensor, problems);
  for (const [name, file] of files) {
    if (!specs.has(name) && !IGNORED.some((re) => re.test(name)) && !(config.tiedEmbeddings && UNEMBED.includes(name))) {
      problems.push(new BonsaiError(`unexpected tensor ${name} (not part of a ${config.family} model with this config)`, { where: file }));
    }
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new BonsaiErrors(`${dir}: ${problems.length} problems with the checkpoint's tensors`, problems);
  return { config, values: hfToBonsai(config, hf), shapes: bonsaiShapes(config, specs) };
}

const UNEMBED = ['lm_head.weight', 'embed_out.weight'];

/**
 * Some tied checkpoints also store the output matrix. Accepted when it is the embedding
 * byte for byte (it is then redundant); otherwise tying would silently drop trained weights.
 */
function checkTiedCopy(c: DecoderConfig, files: Map<string, string>, tensor: (name: string) => SafetensorsTensor | undefined, problems: BonsaiError[]): void {
  if (!c.tiedEmbeddings) return;
  const embedName = c.family === 'gpt_neox' ? 'gpt_neox.embed_in.weight' : 'model.embed_tokens.weight';
  for (const name of UNEMBED.filter((n) => files.has(n))) {
    const out = tensor(name)?.data;
    const embed = files.has(embedName) ? tensor(embedName)?.data : undefined;
    const same = out && embed && out.length === embed.length && out.every((v, i) => v === embed[i]);
    if (!same) {
      problems.push(new BonsaiError(`tensor ${name} differs from ${embedName} but config.json has tie_word_embeddings true`, {
        where: files.get(name)!,
        hint: 'set tie_word_embeddings to false in config.json if the output matrix is trained separately',
      }));
    }
  }
}

function bonsaiShapes(c: DecoderConfig, specs: Map<string, HfTensorSpec>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const spec of specs.values()) {
    if (spec.kind === 'copy') out.set(spec.path, spec.shape);
    else if (spec.kind === 'transpose') out.set(spec.path, [spec.shape[1]!, spec.shape[0]!]);
    else if (spec.kind === 'neox_qkv_weight') for (const w of ['W_Q', 'W_K', 'W_V']) out.set(`${spec.path}.${w}`, [c.dModel, c.nHeads * c.dHead]);
    else for (const b of ['b_Q', 'b_K', 'b_V']) out.set(`${spec.path}.${b}`, [c.nHeads * c.dHead]);
  }
  return out;
}

/** A FamilyDecoder from a checkpoint directory. */
export function loadHfDecoder(dir: string, opts: { contextLength?: number } = {}): FamilyDecoder {
  const { config, values } = readHfCheckpoint(dir, opts);
  return new FamilyDecoder(config, values);
}
