/**
 * Reads a Hugging Face checkpoint directory of any registered family: `config.json` plus
 * `model.safetensors` or a sharded `model.safetensors.index.json`; F32, F16 and BF16 tensors
 * all arrive as float32 (safetensors.ts widens the half types). Names go through the family's
 * tensor table (tensors.ts). Every problem names the file and the field or tensor: a missing
 * shard, a missing or unexpected tensor, a wrong shape (a transposed one said to be so).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../../errors.ts';
import { HookedTransformer } from '../decoder.ts';
import { createTokenizer, type Tokenizer } from '../tokenizer.ts';
import { paramSpecs } from '../layout.ts';
import { readSafetensors, type SafetensorsTensor } from '../safetensors.ts';
import { decoderConfigFromHf, readHfConfigJson, readJson, type DecoderConfig } from './config.ts';
import type { HfTensorSpec } from './family.ts';
import { familyOf } from './index.ts';
import { hfTensorSpecs, hfToBonsai } from './tensors.ts';

export interface HfCheckpoint {
  config: DecoderConfig;
  /** Parameter values by bonsai path, and their shapes. */
  values: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
}

/** Tensor name → the file holding it (one file, or the index's weight_map). A single file read to list it is kept in `cache`, not read twice. */
function weightFiles(dir: string, cache: Map<string, ReturnType<typeof readSafetensors>>): Map<string, string> {
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
  if (!existsSync(single)) {
    const pickle = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is a pickle, which bonsai does not read: convert it to safetensors)' : '';
    throw new BonsaiError(`${dir}: neither model.safetensors nor model.safetensors.index.json found${pickle}`);
  }
  cache.set(single, readSafetensors(single));
  return new Map(Object.keys(cache.get(single)!.tensors).map((n) => [n, single]));
}

/** Reads and checks a checkpoint; `contextLength` is the longest sequence bonsai will run. */
export function readHfCheckpoint(dir: string, opts: { contextLength?: number } = {}): HfCheckpoint {
  const config = decoderConfigFromHf(readHfConfigJson(dir), join(dir, 'config.json'), opts.contextLength);
  const family = familyOf(config);
  const specs = hfTensorSpecs(config);
  const cache = new Map<string, ReturnType<typeof readSafetensors>>();
  const files = weightFiles(dir, cache);
  const problems: BonsaiError[] = [];
  const hf = new Map<string, Float32Array>();
  /** Names as the table has them: a family's optional prefix (GPT-2's `transformer.`) dropped. */
  const stored = new Map<string, string>();
  for (const name of files.keys()) {
    const bare = family.namePrefix && name.startsWith(family.namePrefix) ? name.slice(family.namePrefix.length) : name;
    if (stored.has(bare)) problems.push(new BonsaiError(`tensor ${bare} appears both with and without the "${family.namePrefix}" prefix`, { where: files.get(name)! }));
    stored.set(bare, name);
  }
  /** A tensor by (bare) name, each file read once. */
  const tensor = (bare: string) => {
    const name = stored.get(bare)!;
    const file = files.get(name)!;
    if (!cache.has(file)) cache.set(file, readSafetensors(file));
    return cache.get(file)!.tensors[name];
  };
  for (const [name, spec] of specs) {
    const file = stored.has(name) ? files.get(stored.get(name)!) : undefined;
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
      problems.push(new BonsaiError(`tensor ${name} has shape [${t.shape}], config.json implies [${spec.shape}]${transposedNote(t.shape, spec)}`, { where: file }));
    } else hf.set(name, t.data as Float32Array);
  }
  const tiedCopy = checkTiedCopy(config, stored, tensor, (name) => files.get(stored.get(name)!)!, problems);
  for (const [name, file] of [...stored].map(([bare, full]) => [bare, files.get(full)!] as const)) {
    if (!specs.has(name) && !family.ignoredTensors?.some((re) => re.test(name)) && name !== tiedCopy) {
      problems.push(new BonsaiError(`unexpected tensor ${name} (not part of a ${config.family} model with this config)`, { where: file }));
    }
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new BonsaiErrors(`${dir}: ${problems.length} problems with the checkpoint's tensors`, problems);
  const values = hfToBonsai(config, hf);
  const specsOf = paramSpecs(config);
  // Parameters Hugging Face does not store (GPT-2's unembedding bias) start where bonsai's init has them: zero.
  for (const p of specsOf) if (!values.has(p.path) && p.init === 'zeros') values.set(p.path, new Float32Array(p.shape.reduce((a, b) => a * b, 1)));
  return { config, values, shapes: new Map(specsOf.map((p) => [p.path, p.shape])) };
}

/** Says so when a 2-D tensor arrives transposed (an nn.Linear where Conv1D was expected, or the reverse). */
function transposedNote(got: number[], spec: HfTensorSpec): string {
  const [a, b] = spec.shape;
  if (got.length !== 2 || spec.shape.length !== 2 || got[0] !== b || got[1] !== a) return '';
  return spec.kind === 'linear' ? " (transposed: this family's nn.Linear stores [out, in])" : " (transposed: nn.Linear's [out, in]; GPT-2's Conv1D stores [in, out])";
}

/**
 * Some tied checkpoints also store the output matrix. Accepted when it is the embedding
 * byte for byte (it is then redundant); otherwise tying would silently drop trained weights.
 * Returns the name of an accepted copy.
 */
function checkTiedCopy(c: DecoderConfig, stored: Map<string, string>, tensor: (name: string) => SafetensorsTensor | undefined, fileOf: (name: string) => string, problems: BonsaiError[]): string | undefined {
  if (!c.tiedEmbeddings) return undefined;
  const nameOf = (specs: Map<string, HfTensorSpec>, path: string) => [...specs].find(([, s]) => s.paths[0] === path)?.[0];
  const embedName = nameOf(hfTensorSpecs(c), 'embed.W_E')!;
  const outName = nameOf(hfTensorSpecs({ ...c, tiedEmbeddings: false }), 'unembed.W_U');
  if (!outName || !stored.has(outName)) return undefined;
  const out = tensor(outName)?.data;
  const embed = stored.has(embedName) ? tensor(embedName)?.data : undefined;
  const same = out && embed && out.length === embed.length && out.every((v, i) => v === embed[i]);
  if (!same) {
    problems.push(new BonsaiError(`tensor ${outName} differs from ${embedName} but config.json has tie_word_embeddings true`, {
      where: fileOf(outName),
      hint: 'set tie_word_embeddings to false in config.json if the output matrix is trained separately',
    }));
  }
  return outName;
}

/** A model from a Hugging Face checkpoint directory of any registered family. */
export function loadHfModel(dir: string, opts: { contextLength?: number } = {}): HookedTransformer {
  const { config, values } = readHfCheckpoint(dir, opts);
  return new HookedTransformer(config, values);
}

/** A Hugging Face GPT-2 directory's model with GPT-2's BPE (kept for code written before every family loaded through loadHfModel). */
export function loadHfGpt2(dir: string): { model: HookedTransformer; tokenizer: Tokenizer; config: DecoderConfig } {
  const model = loadHfModel(dir);
  if (model.config.family !== 'gpt2') {
    model.dispose();
    throw new BonsaiError(`${dir}/config.json: model_type is not gpt2; load it with loadHfModel`);
  }
  return { model, tokenizer: createTokenizer('gpt2'), config: model.config };
}
