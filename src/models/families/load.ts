/**
 * Reads a Hugging Face checkpoint directory of any registered family: `config.json` plus
 * `model.safetensors` or a sharded `model.safetensors.index.json`; F32, F16 and BF16 tensors
 * all arrive as float32 (safetensors.ts widens the half types). Names go through the family's
 * tensor table (tensors.ts). Every problem names the file and the field or tensor: a missing
 * shard, a missing or unexpected tensor, a wrong shape (a transposed one said to be so).
 * Files of any size: headers are checked first, then tensors are read one at a time from
 * their offsets, so peak host memory is the model plus about one tensor.
 */
import { join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../../errors.ts';
import { HookedTransformer } from '../decoder.ts';
import { paramSpecs } from '../layout.ts';
import type { SafetensorsReader } from '../safetensors.ts';
import { createTokenizer, type Tokenizer } from '../tokenizer.ts';
import { decoderConfigFromHf, readHfConfigJson, type DecoderConfig } from './config.ts';
import type { HfTensorSpec } from './family.ts';
import { familyOf } from './index.ts';
import { hfTensorSpecs, hfTensorToBonsai } from './tensors.ts';
import { closeWeightFiles, openWeightFiles } from './weight-files.ts';

export interface HfCheckpoint {
  config: DecoderConfig;
  /** Bonsai parameter values by path. */
  values: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
}

/** config.json of a checkpoint directory, checked (no weights read). */
export function readHfDecoderConfig(dir: string, opts: { contextLength?: number } = {}): DecoderConfig {
  return decoderConfigFromHf(readHfConfigJson(dir), join(dir, 'config.json'), opts.contextLength);
}

/** Reads and checks a whole checkpoint into memory; `contextLength` is the longest sequence bonsai will run. */
export function readHfCheckpoint(dir: string, opts: { contextLength?: number } = {}): HfCheckpoint {
  return withCheckedTensors(dir, opts, (config, specs, read) => {
    const get = parameterReader(config, specs, read);
    const specsOf = paramSpecs(config);
    const values = new Map(specsOf.map((p) => [p.path, get(p.path)!]));
    return { config, values, shapes: new Map(specsOf.map((p) => [p.path, p.shape])) };
  });
}

/**
 * A model from a Hugging Face checkpoint directory of any registered family. Each parameter is
 * read from its file when the model makes its variable and is not kept: peak host memory is
 * the model in the backend plus about one tensor (on wasm, the weights are not held twice).
 */
export function loadHfModel(dir: string, opts: { contextLength?: number } = {}): HookedTransformer {
  return withCheckedTensors(dir, opts, (config, specs, read) => new HookedTransformer(config, { get: parameterReader(config, specs, read) }));
}

/**
 * Bonsai parameter values by path, each read from its HF tensor when asked for (a fused
 * tensor's other parts are held until they are asked for too).
 */
function parameterReader(config: DecoderConfig, specs: Map<string, HfTensorSpec>, read: TensorReader): (path: string) => Float32Array | undefined {
  const source = new Map<string, { name: string; spec: HfTensorSpec }>();
  for (const [name, spec] of specs) for (const path of spec.paths) source.set(path, { name, spec });
  const zeros = new Map(paramSpecs(config).filter((p) => p.init === 'zeros').map((p) => [p.path, p.shape]));
  const pending = new Map<string, Float32Array>();
  return (path) => {
    const held = pending.get(path);
    if (held) return (pending.delete(path), held);
    const from = source.get(path);
    // Parameters Hugging Face does not store (GPT-2's unembedding bias) start where bonsai's init has them: zero.
    if (!from) return zeros.has(path) ? zerosOf(zeros.get(path)!) : undefined;
    let mine: Float32Array | undefined;
    for (const [p, v] of hfTensorToBonsai(config, from.spec, read(from.name))) {
      if (p === path) mine = v;
      else pending.set(p, v);
    }
    return mine;
  };
}

/** A Hugging Face GPT-2 directory's model with GPT-2's BPE (kept for code written before every family loaded through loadHfModel). */
export function loadHfGpt2(dir: string): { model: HookedTransformer; tokenizer: Tokenizer; config: DecoderConfig } {
  if (readHfDecoderConfig(dir).family !== 'gpt2') throw new BonsaiError(`${dir}/config.json: model_type is not gpt2; load it with loadHfModel`);
  const model = loadHfModel(dir);
  return { model, tokenizer: createTokenizer('gpt2'), config: model.config };
}

function zerosOf(shape: number[]): Float32Array {
  return new Float32Array(shape.reduce((a, b) => a * b, 1));
}

type TensorReader = (name: string) => Float32Array;

/**
 * Opens and checks a checkpoint's tensors from their headers (every problem named, together),
 * then hands `use` a reader of one tensor at a time by its bare name; files close when it returns.
 */
function withCheckedTensors<R>(dir: string, opts: { contextLength?: number }, use: (config: DecoderConfig, specs: Map<string, HfTensorSpec>, read: TensorReader) => R): R {
  const config = readHfDecoderConfig(dir, opts);
  const family = familyOf(config);
  const specs = hfTensorSpecs(config);
  const files = openWeightFiles(dir);
  try {
    const problems: BonsaiError[] = [];
    /** Bare name (a family's optional prefix, GPT-2's `transformer.`, dropped) → the name as stored. */
    const stored = new Map<string, string>();
    for (const name of files.keys()) {
      const bare = family.namePrefix && name.startsWith(family.namePrefix) ? name.slice(family.namePrefix.length) : name;
      if (stored.has(bare)) problems.push(new BonsaiError(`tensor ${bare} appears both with and without the "${family.namePrefix}" prefix`, { where: files.get(name)!.path }));
      stored.set(bare, name);
    }
    const fileOf = (bare: string) => files.get(stored.get(bare)!)!;
    const read: TensorReader = (bare) => fileOf(bare).read(stored.get(bare)!).data as Float32Array;
    for (const [name, spec] of specs) {
      if (!stored.has(name)) {
        problems.push(new BonsaiError(`tensor ${name} [${spec.shape}] is missing`, { where: dir }));
        continue;
      }
      const file = fileOf(name);
      const t = file.entry(stored.get(name)!);
      if (!t) problems.push(new BonsaiError(`tensor ${name} is listed in the index but not in the file`, { where: file.path }));
      else if (!['F32', 'F16', 'BF16'].includes(t.dtype)) problems.push(new BonsaiError(`tensor ${name} has dtype ${t.dtype}; bonsai reads F32, F16 and BF16`, { where: file.path }));
      else if (t.shape.join(',') !== spec.shape.join(',')) problems.push(new BonsaiError(`tensor ${name} has shape [${t.shape}], config.json implies [${spec.shape}]${transposedNote(t.shape, spec)}`, { where: file.path }));
    }
    const tiedCopy = checkTiedCopy(config, stored, read, (name) => fileOf(name), problems);
    for (const bare of stored.keys()) {
      if (!specs.has(bare) && !family.ignoredTensors?.some((re) => re.test(bare)) && bare !== tiedCopy) {
        problems.push(new BonsaiError(`unexpected tensor ${bare} (not part of a ${config.family} model with this config)`, { where: fileOf(bare).path }));
      }
    }
    if (problems.length === 1) throw problems[0]!;
    if (problems.length > 1) throw new BonsaiErrors(`${dir}: ${problems.length} problems with the checkpoint's tensors`, problems);
    return use(config, specs, read);
  } finally {
    closeWeightFiles(files);
  }
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
function checkTiedCopy(c: DecoderConfig, stored: Map<string, string>, read: TensorReader, fileOf: (name: string) => SafetensorsReader, problems: BonsaiError[]): string | undefined {
  if (!c.tiedEmbeddings) return undefined;
  const nameOf = (specs: Map<string, HfTensorSpec>, path: string) => [...specs].find(([, s]) => s.paths[0] === path)?.[0];
  const embedName = nameOf(hfTensorSpecs(c), 'embed.W_E')!;
  const outName = nameOf(hfTensorSpecs({ ...c, tiedEmbeddings: false }), 'unembed.W_U');
  if (!outName || !stored.has(outName)) return undefined;
  const out = read(outName);
  const embed = stored.has(embedName) ? read(embedName) : undefined;
  const same = embed && out.length === embed.length && out.every((v, i) => v === embed[i]);
  if (!same) {
    problems.push(new BonsaiError(`tensor ${outName} differs from ${embedName} but config.json has tie_word_embeddings true`, {
      where: fileOf(outName).path,
      hint: 'set tie_word_embeddings to false in config.json if the output matrix is trained separately',
    }));
  }
  return outName;
}
