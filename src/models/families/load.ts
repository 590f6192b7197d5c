/**
 * Reads a Hugging Face checkpoint directory of any family in config.ts: `config.json` plus
 * `model.safetensors` or a sharded `model.safetensors.index.json`; F32, F16 and BF16 tensors
 * all arrive as float32 (safetensors.ts widens the half types). Every problem names the file
 * and the field or tensor: a missing shard, a missing or unexpected tensor, a wrong shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../../errors.ts';
import { openSafetensors, type SafetensorsReader } from '../safetensors.ts';
import { decoderConfigFromHf, type DecoderConfig } from './config.ts';
import { FamilyDecoder } from './decoder.ts';
import { hfTensorSpecs, hfTensorToBonsai, type HfTensorSpec } from './names.ts';

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

/** Tensor name → the open file holding it (one file, or the index's weight_map); each file opened once. */
function openWeightFiles(dir: string): Map<string, SafetensorsReader> {
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
    if (!existsSync(single)) throw new BonsaiError(`${dir}: neither model.safetensors nor model.safetensors.index.json found`);
    const file = openSafetensors(single);
    opened.set(single, file);
    for (const n of file.names()) out.set(n, file);
    return out;
  } catch (e) {
    for (const f of opened.values()) f.close();
    throw e;
  }
}

/** config.json of a checkpoint directory, checked (no weights read). */
export function readHfDecoderConfig(dir: string, opts: { contextLength?: number } = {}): DecoderConfig {
  const configPath = join(dir, 'config.json');
  return decoderConfigFromHf(readJson(configPath), configPath, opts.contextLength);
}

/**
 * Reads and checks a checkpoint; `contextLength` is the longest sequence bonsai will run.
 * Files of any size: tensors are checked from the headers first (names, dtypes, shapes), then
 * read one at a time from their offsets and turned into bonsai's layout at once, so peak host
 * memory is the model plus about one tensor.
 */
export function readHfCheckpoint(dir: string, opts: { contextLength?: number } = {}): HfCheckpoint {
  return withCheckedTensors(dir, opts, (config, specs, read) => {
    const values = new Map<string, Float32Array>();
    for (const [name, spec] of specs) for (const [path, v] of hfTensorToBonsai(config, spec, read(name))) values.set(path, v);
    return { config, values, shapes: bonsaiShapes(config, specs) };
  });
}

/**
 * Opens and checks a checkpoint's tensors (every problem named, together), then hands `use`
 * a reader of one tensor at a time; the files are closed when it returns.
 */
function withCheckedTensors<R>(dir: string, opts: { contextLength?: number }, use: (config: DecoderConfig, specs: Map<string, HfTensorSpec>, read: (name: string) => Float32Array) => R): R {
  const config = readHfDecoderConfig(dir, opts);
  const specs = hfTensorSpecs(config);
  const files = openWeightFiles(dir);
  try {
    const problems: BonsaiError[] = [];
    for (const [name, spec] of specs) {
      const file = files.get(name);
      if (!file) {
        problems.push(new BonsaiError(`tensor ${name} [${spec.shape}] is missing`, { where: dir }));
        continue;
      }
      const t = file.entry(name);
      if (!t) problems.push(new BonsaiError(`tensor ${name} is listed in the index but not in the file`, { where: file.path }));
      else if (!['F32', 'F16', 'BF16'].includes(t.dtype)) problems.push(new BonsaiError(`tensor ${name} has dtype ${t.dtype}; bonsai reads F32, F16 and BF16`, { where: file.path }));
      else if (t.shape.join(',') !== spec.shape.join(',')) problems.push(new BonsaiError(`tensor ${name} has shape [${t.shape}], config.json implies [${spec.shape}]`, { where: file.path }));
    }
    const read = (name: string) => files.get(name)!.read(name).data as Float32Array;
    checkTiedCopy(config, files, read, problems);
    for (const [name, file] of files) {
      if (!specs.has(name) && !IGNORED.some((re) => re.test(name)) && !(config.tiedEmbeddings && UNEMBED.includes(name))) {
        problems.push(new BonsaiError(`unexpected tensor ${name} (not part of a ${config.family} model with this config)`, { where: file.path }));
      }
    }
    if (problems.length === 1) throw problems[0]!;
    if (problems.length > 1) throw new BonsaiErrors(`${dir}: ${problems.length} problems with the checkpoint's tensors`, problems);
    return use(config, specs, read);
  } finally {
    for (const f of new Set(files.values())) f.close();
  }
}

const UNEMBED = ['lm_head.weight', 'embed_out.weight'];

/**
 * Some tied checkpoints also store the output matrix. Accepted when it is the embedding
 * byte for byte (it is then redundant); otherwise tying would silently drop trained weights.
 */
function checkTiedCopy(c: DecoderConfig, files: Map<string, SafetensorsReader>, tensor: (name: string) => Float32Array, problems: BonsaiError[]): void {
  if (!c.tiedEmbeddings) return;
  const embedName = c.family === 'gpt_neox' ? 'gpt_neox.embed_in.weight' : 'model.embed_tokens.weight';
  for (const name of UNEMBED.filter((n) => files.has(n))) {
    const out = tensor(name);
    const embed = files.get(embedName)?.entry(embedName) ? tensor(embedName) : undefined;
    const same = embed && out.length === embed.length && out.every((v, i) => v === embed[i]);
    if (!same) {
      problems.push(new BonsaiError(`tensor ${name} differs from ${embedName} but config.json has tie_word_embeddings true`, {
        where: files.get(name)!.path,
        hint: 'set tie_word_embeddings to false in config.json if the output matrix is trained separately',
      }));
    }
  }
}

/** The bonsai paths one HF tensor becomes. */
function bonsaiPaths(c: DecoderConfig, spec: HfTensorSpec): string[] {
  if (spec.kind === 'neox_qkv_weight') return ['W_Q', 'W_K', 'W_V'].map((w) => `${spec.path}.${w}`);
  if (spec.kind === 'neox_qkv_bias') return ['b_Q', 'b_K', 'b_V'].map((b) => `${spec.path}.${b}`);
  return [spec.path];
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

/**
 * A FamilyDecoder from a checkpoint directory. Each parameter is read from its file when
 * the model makes its variable and is not kept: peak host memory is the model in the backend
 * plus about one tensor (on wasm, the weights are not held twice, in JS and in the heap).
 */
export function loadHfDecoder(dir: string, opts: { contextLength?: number } = {}): FamilyDecoder {
  return withCheckedTensors(dir, opts, (config, specs, read) => {
    const source = new Map<string, { name: string; spec: HfTensorSpec }>();
    for (const [name, spec] of specs) for (const path of bonsaiPaths(config, spec)) source.set(path, { name, spec });
    const pending = new Map<string, Float32Array>(); // GPT-NeoX's fused qkv: the two parts not yet asked for
    const get = (path: string): Float32Array | undefined => {
      const held = pending.get(path);
      if (held) return (pending.delete(path), held);
      const from = source.get(path);
      if (!from) return undefined;
      let mine: Float32Array | undefined;
      for (const [p, v] of hfTensorToBonsai(config, from.spec, read(from.name))) {
        if (p === path) mine = v;
        else pending.set(p, v);
      }
      return mine;
    };
    return new FamilyDecoder(config, { get });
  });
}
