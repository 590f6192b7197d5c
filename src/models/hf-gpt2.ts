/**
 * Hugging Face GPT-2 checkpoints (`config.json` + `model.safetensors`, any size) in and
 * out of the hooked transformer. Loading then saving gives back the same tensors, bit for
 * bit. See docs/gpt2.md.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { GPT2_VOCAB, hfConfigFromModel, modelConfigFromHf } from './hf-gpt2-config.ts';
import { bonsaiToHf, hfTensorShapes, hfToBonsai } from './hf-gpt2-names.ts';
import { readSafetensorsBuffer, safetensorsBuffer, type SafetensorsFile, type SafetensorsInput } from './safetensors.ts';
import { createTokenizer, type Tokenizer } from './tokenizer.ts';
import { HookedTransformer } from './transformer.ts';
import type { CausalLM } from './model.ts';
import { requireGpt2 } from './lm-config.ts';

/** What `loadHfGpt2` returns. The caller disposes the model. */
export interface HfGpt2 {
  model: HookedTransformer;
  /** GPT-2's BPE (r50k_base): the tokenizer every GPT-2 checkpoint was trained with. */
  tokenizer: Tokenizer;
  config: ModelConfig;
}

/** Half-precision files are widened to float32 on read (exactly: every half is a float). */
const LOADABLE_DTYPES = ['F32', 'F16', 'BF16'];
/** Causal-mask buffers some HF versions save with the weights; bonsai builds its own. */
const MASK_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;
const HINT = 'download both files with `huggingface-cli download gpt2 model.safetensors config.json --local-dir DIR`';

/**
 * Loads a GPT-2 from a directory holding HF's `config.json` and `model.safetensors`.
 * Tensor names may carry the `transformer.` prefix (GPT2LMHeadModel) or not (GPT2Model,
 * as on the Hub); `lm_head.weight` is optional when the embeddings are tied.
 * @throws BonsaiError naming the field for an unsupported config, and one listing every
 *   missing, unexpected, mis-shaped or wrong-dtype tensor at once for a mismatched file.
 */
export function loadHfGpt2(dir: string): HfGpt2 {
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BonsaiError(`no such directory: ${dir}`, { hint: HINT });
  for (const p of [configPath, weightsPath]) {
    if (existsSync(p)) continue;
    const bin = p === weightsPath && existsSync(join(dir, 'pytorch_model.bin'));
    throw new BonsaiError(`${p} is missing${bin ? ' (pytorch_model.bin is a pickle, which bonsai does not read)' : ''}`, { hint: HINT });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new BonsaiError(`config.json is not valid JSON (${(e as Error).message})`, { where: configPath });
  }
  const config = modelConfigFromHf(raw, configPath);
  const weights = checkedTensors(readSafetensorsBuffer(readWholeFile(weightsPath), weightsPath), config, weightsPath);
  const model = HookedTransformer.fromValues(config, hfToBonsai(config, weights));
  return { model, tokenizer: createTokenizer('gpt2'), config };
}

/**
 * The file's bytes. readFileSync stops at 2 GiB, which gpt2-large passes; reading in
 * chunks into one Buffer reaches Node's Buffer limit (4 GiB on Node 20) instead.
 */
function readWholeFile(path: string): Buffer {
  const size = statSync(path).size;
  if (size > bufferConstants.MAX_LENGTH) {
    throw new BonsaiError(`${path} is ${(size / 2 ** 30).toFixed(1)} GiB; this Node reads at most ${(bufferConstants.MAX_LENGTH / 2 ** 30).toFixed(0)} GiB in one file`, {
      hint: 'sharded checkpoints are not supported yet; a newer Node (22+) raises the limit',
    });
  }
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  try {
    for (let at = 0; at < size; ) {
      const n = readSync(fd, buf, at, Math.min(size - at, 2 ** 30), at);
      if (n === 0) throw new BonsaiError(`${path} shrank while being read (${at} of ${size} bytes)`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** The file's tensors by unprefixed HF name, or one error listing every mismatch. */
function checkedTensors(file: SafetensorsFile, c: ModelConfig, where: string): Map<string, Float32Array> {
  const want = hfTensorShapes(c);
  const found = new Map<string, Float32Array>();
  const [unexpected, problems]: [string[], string[]] = [[], []];
  for (const [key, t] of Object.entries(file.tensors)) {
    const name = key.startsWith('transformer.') ? key.slice('transformer.'.length) : key;
    if (MASK_BUFFER.test(name)) continue;
    // A tied model may still carry lm_head.weight (a copy of wte); it is checked below.
    const shape = want.get(name) ?? (name === 'lm_head.weight' ? [c.vocabSize, c.dModel] : undefined);
    if (!shape) {
      unexpected.push(key);
      continue;
    }
    if (found.has(name)) problems.push(`${key}: appears both with and without the "transformer." prefix`);
    if (!LOADABLE_DTYPES.includes(t.dtype)) problems.push(`${key}: dtype ${t.dtype}, expected one of ${LOADABLE_DTYPES.join(', ')}`);
    else if (!sameShape(t.shape, shape)) problems.push(`${key}: shape [${t.shape}], expected [${shape}]${transposedNote(t.shape, shape)}`);
    found.set(name, t.data as Float32Array);
  }
  const missing = [...want.keys()].filter((n) => !found.has(n));
  const lmHead = found.get('lm_head.weight');
  const wte = found.get('wte.weight');
  if (c.tiedEmbeddings && lmHead && wte && lmHead.length === wte.length && lmHead.some((v, i) => v !== wte[i])) {
    problems.push('lm_head.weight differs from wte.weight, but config.json ties them (tie_word_embeddings is true or absent)');
  }
  const list = (what: string, names: string[]) => (names.length ? [`${what} (${names.length}): ${names.join(', ')}`] : []);
  const all = [...list('missing tensors', missing), ...list('unexpected tensors', unexpected), ...problems];
  if (all.length) {
    const shape = `${c.nLayers} layers, n_embd ${c.dModel}, n_head ${c.nHeads}, vocab ${c.vocabSize}, ${c.nCtx} positions`;
    throw new BonsaiErrors(`${where}: does not match the GPT-2 that config.json describes (${shape}):`, all.map((m) => new BonsaiError(m)));
  }
  return found;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Weights saved from nn.Linear instead of Conv1D arrive transposed; say so. */
function transposedNote(got: number[], want: number[]): string {
  const flipped = got.length === 2 && want.length === 2 && got[0] === want[1] && got[1] === want[0];
  return flipped ? " (transposed: nn.Linear's [out, in]; GPT-2's Conv1D stores [in, out])" : '';
}

/**
 * Writes `model.safetensors` (float32, names as on the Hub, no `transformer.` prefix) and
 * `config.json` into `dir`, which HF's GPT2LMHeadModel.from_pretrained and `loadHfGpt2`
 * both read. Each file is written to a temporary name and renamed into place.
 * @throws BonsaiError when the model has no GPT-2 equivalent (a vocabulary smaller than
 *   GPT-2's tokenizer, or a nonzero unembedding bias, which GPT-2's lm_head lacks).
 */
export function saveHfGpt2(model: CausalLM, dir: string): void {
  saveHfGpt2Values(requireGpt2(model.config, 'saving as Hugging Face GPT-2'), model.valuesSync(), dir);
}

/** `saveHfGpt2` from parameter values by path (e.g. LoRA-merged weights: lora/export.ts). */
export function saveHfGpt2Values(c: ModelConfig, values: Map<string, Float32Array>, dir: string): void {
  if (c.vocabSize < GPT2_VOCAB) {
    throw new BonsaiError(`cannot save as GPT-2: vocabulary of ${c.vocabSize} is smaller than GPT-2's tokenizer (${GPT2_VOCAB})`);
  }
  if (!c.tiedEmbeddings && values.get('unembed.b_U')!.some((v) => v !== 0)) {
    throw new BonsaiError("cannot save as GPT-2: unembed.b_U is not zero, and GPT-2's lm_head has no bias");
  }
  const shapes = hfTensorShapes(c);
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, data] of bonsaiToHf(c, values)) tensors[name] = { dtype: 'F32', shape: shapes.get(name)!, data };
  mkdirSync(dir, { recursive: true });
  // HF's loader accepts safetensors whose metadata says format "pt" (or has none).
  replaceFile(join(dir, 'model.safetensors'), safetensorsBuffer(tensors, { format: 'pt' }));
  replaceFile(join(dir, 'config.json'), JSON.stringify(hfConfigFromModel(c), null, 2) + '\n');
}

function replaceFile(path: string, content: Buffer | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
