import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { initBackend } from '../backend/index.ts';
import { generate } from '../models/generate.ts';
import { loadProbe, probeIntervention } from '../probes/index.ts';
import { createTokenizer, endOfSequenceIds, type Tokenizer } from '../models/tokenizer.ts';
import { loadHfModel, readHfDecoderConfig } from '../models/families/load.ts';
import { hfTokenizerKind } from '../models/families/config.ts';
import { familyNames } from '../models/families/index.ts';
import { checkModelFits } from '../trainer/load-fit.ts';
import { loadHfTokenizer } from '../models/hf-tokenizer.ts';
import { parseMessages, renderChat } from '../data/chat.ts';
import { promptInputIds, renderedInputIds } from '../models/input-ids.ts';
import { describeSampling, resolveSampling } from '../models/sampling-defaults.ts';
import type { CausalLM } from '../models/model.ts';
import { modelFromValues } from '../models/registry.ts';
import { latestCheckpoint, loadCheckpoint } from '../models/checkpoint.ts';
import { loadModelAt } from '../diff/load.ts';
import { intFlag, parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';

const HELP = usage('bonsai generate (--checkpoint DIR | --hf DIR | --hf-gpt2 DIR) (--prompt TEXT | --messages JSON) [options]', 'Continue prompts with a trained model.', [
  ['--checkpoint DIR', "a checkpoint directory, or a run's out_dir (its newest checkpoint)"],
  ['--hf DIR', `instead of --checkpoint: a Hugging Face model directory (${familyNames().join(', ')}; config.json, safetensors, tokenizer.json, or GPT-2's BPE for a GPT-2 folder without one); stops at any of its end-of-sequence ids`],
  ['--hf-gpt2 DIR', "as --hf, with GPT-2's tokenizer"],
  ['--prompt TEXT', 'the text to continue (repeatable: prompts run as one batch)'],
  ['--messages JSON', 'a chat prompt, \'[{"role":"user","content":"..."}]\', rendered with the model\'s chat_template and its generation prompt (tokenizer hf: --hf DIR, or a checkpoint of such a run); repeatable, batched with the prompts'],
  ['--max-new-tokens N', 'tokens to generate (default 200)'],
  ['--temperature T', "sampling temperature, 0 = greedy (default: the model's generation_config.json, else 0.8)"],
  ['--top-k K', "sample among the K most likely tokens (default: generation_config.json's top_k, else all)"],
  ['--top-p P', "nucleus sampling: the most likely tokens summing to P (default: generation_config.json's top_p, else 1)"],
  ['--seed N', 'sampling seed (default 0)'],
  ['--backend NAME', 'auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu (default auto)'],
  THREADS_HELP,
  ['--probe DIR', 'runtime intervention: a saved probe, read on the frozen model before each token'],
  ['--insert TEXT', 'text inserted when the probe fires (with --probe), e.g. " unknown"'],
  ['--amplify-from DIR', 'logit-diff amplification: sample from l + α·(l − l_DIR), DIR being the model before (e.g. the base of a fine-tune)'],
  ['--alpha A', 'amplification strength with --amplify-from (default 1; 0 = plain sampling)'],
  ['--probe-model DIR', 'checkpoint the probe was trained on (default: the --checkpoint, --hf or --hf-gpt2 model); it runs frozen'],
  ['--json', 'print one JSON object per prompt, {"prompt", "ids" (the new ids, up to and including an end-of-sequence id), "text" (their decoding)}'],
]);

function numberFlag(flag: string, v: string | undefined, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n)) throw new BonsaiError(`${flag} must be ${what}, got "${v}"`);
  return n;
}

export const generateCommand: Command = async (argv) => {
  const { values } = parse('generate', argv, {
    checkpoint: { type: 'string' },
    hf: { type: 'string' },
    'hf-gpt2': { type: 'string' },
    json: { type: 'boolean' },
    prompt: { type: 'string', multiple: true },
    messages: { type: 'string', multiple: true },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    ...threadsOption,
    probe: { type: 'string' },
    insert: { type: 'string' },
    'probe-model': { type: 'string' },
    'amplify-from': { type: 'string' },
    alpha: { type: 'string' },
  });
  if (values.help) return (process.stdout.write(HELP), 0);
  const sources = [values.checkpoint, values.hf, values['hf-gpt2']].filter((v) => v !== undefined).length;
  if (sources !== 1 || !(values.prompt?.length || values.messages?.length)) return (process.stderr.write(`bonsai generate: --prompt (or --messages) and one of --checkpoint, --hf or --hf-gpt2 are required\n\n${HELP}`), 2);
  if (values.hf && values['amplify-from']) throw new BonsaiError('--amplify-from takes a bonsai checkpoint or --hf-gpt2 model, not --hf');
  const backend = values.backend ?? 'auto';
  if (!['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'].includes(backend)) throw new BonsaiError(`--backend: unknown backend "${backend}"`);
  const report = await initBackend(backend as 'auto', { threads: threadsFlag(values.threads) });
  const hfDir = values.hf ?? values['hf-gpt2'];
  const frozenCopy = Boolean(values.probe && !values['probe-model']);
  const { model, tokenizer: tok, stop } = hfDir ? fromHf(hfDir, values.hf ? hfTokenizerKind(hfDir) : 'gpt2', report.name, frozenCopy) : withStop(fromCheckpoint(values.checkpoint!));
  if (values.alpha !== undefined && !values['amplify-from']) throw new BonsaiError('--alpha needs --amplify-from DIR (the model to amplify away from)');
  const alpha = numberFlag('--alpha', values.alpha, () => true, 'a number') ?? 1;
  const from = values['amplify-from'] ? loadModelAt(values['amplify-from']) : undefined;
  const iv = interventionFrom(values, tok, model);
  try {
    // Logits are compared token by token, so the tokenizers must agree; generate checks vocab and context.
    if (from && from.tokenizerKind !== tok.kind) {
      throw new BonsaiError(`--amplify-from ${values['amplify-from']} uses the ${from.tokenizerKind} tokenizer, the model the ${tok.kind} tokenizer; amplification needs one vocabulary`);
    }
    // Model input as transformers makes it: the tokenizer's BOS first where it adds one (models/input-ids.ts).
    const inputs = [...(values.prompt ?? []).map((p) => ({ text: p, ids: promptInputIds(tok, p) })), ...(values.messages ?? []).map((m, i) => chatPrompt(tok, m, i))];
    const sampling = resolveSampling(
      {
        temperature: numberFlag('--temperature', values.temperature, (n) => n >= 0, 'a number >= 0'),
        topK: numberFlag('--top-k', values['top-k'], (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
        topP: numberFlag('--top-p', values['top-p'], (n) => n > 0 && n <= 1, 'in (0, 1]'),
      },
      tok,
      { fallbackTemperature: 0.8, names: { temperature: '--temperature', topP: '--top-p', topK: '--top-k' } },
    );
    if (Object.keys(sampling.fromFile).length) process.stderr.write(`${describeSampling(sampling)}\n`);
    const prompts = inputs.map((p) => p.ids);
    const out = generate(model, prompts.map((p) => (p.length ? p : [tok.eosId])), {
      maxNewTokens: intFlag('--max-new-tokens', values['max-new-tokens']) ?? 200,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      stopTokens: stop,
      rng: intFlag('--seed', values.seed) ?? 0,
      insert: iv?.intervention.insert,
      amplify: from ? { from: from.model, alpha } : undefined,
    });
    if (iv) process.stderr.write(`interventions: ${iv.intervention.state.count} (probe ${values.probe} fired; inserted ${JSON.stringify(values.insert)})\n`);
    if (values.json) inputs.forEach((p, i) => process.stdout.write(`${JSON.stringify({ prompt: p.text, ids: out.tokens[i], text: tok.decode(out.tokens[i]!) })}\n`));
    else inputs.forEach((p, i) => process.stdout.write(`${inputs.length > 1 ? `--- ${i + 1}\n` : ''}${p.text}${tok.decode(out.tokens[i]!)}\n`));
    return 0;
  } finally {
    iv?.dispose();
    from?.model.dispose();
    model.dispose();
    tf.disposeVariables();
  }
};

/** Text ↔ ids, as generation needs it (bonsai's tokenizers and a Hugging Face directory's). */
type TextCodec = Tokenizer;

/** One --messages value: JSON messages rendered with the chat template (generation prompt on), encoded special-aware. */
function chatPrompt(tok: Tokenizer, json: string, i: number): { text: string; ids: number[] } {
  const where = `--messages #${i + 1}`;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new BonsaiError(`not valid JSON (${(e as Error).message})`, { where, hint: 'e.g. --messages \'[{"role":"user","content":"hi"}]\'' });
  }
  const messages = parseMessages(value);
  if (typeof messages === 'string') throw new BonsaiError(messages, { where });
  const text = renderChat(tok, messages, { addGenerationPrompt: true, where });
  return { text, ids: renderedInputIds(tok, text) };
}

function withStop(m: { model: CausalLM; tokenizer: Tokenizer }): { model: CausalLM; tokenizer: TextCodec; stop: number[] } {
  return { ...m, stop: endOfSequenceIds(m.tokenizer) };
}

/**
 * A Hugging Face directory: its model, its tokenizer (tokenizer.json, or GPT-2's BPE), and
 * every end-of-sequence id. A model too big for the backend is refused from config.json,
 * before its weights are read.
 */
function fromHf(dir: string, kind: 'hf' | 'gpt2', backend: string, frozenCopy: boolean): { model: CausalLM; tokenizer: TextCodec; stop: number[] } {
  const tokenizer = kind === 'hf' ? loadHfTokenizer(dir) : createTokenizer('gpt2'); // first: a missing tokenizer.json is reported before the weights load
  checkModelFits(readHfDecoderConfig(dir), dir, backend, { command: 'generate', frozenCopy });
  return { model: loadHfModel(dir), tokenizer, stop: endOfSequenceIds(tokenizer) };
}

/** The model and tokenizer of a bonsai checkpoint (or a run's newest one). */
function fromCheckpoint(path: string) {
  const dir = loadableDir(path);
  const ck = loadCheckpoint(dir);
  return { model: modelFromValues(ck.config, ck.weights), tokenizer: createTokenizer(ck.tokenizer, dir) };
}

/** A checkpoint dir itself, or a run's out_dir holding step-N checkpoints. */
function loadableDir(path: string): string {
  try {
    return latestCheckpoint(path) ?? path;
  } catch {
    return path;
  }
}

/** --probe/--insert: a probe on the frozen probe model that inserts text when it fires. */
function interventionFrom(values: { probe?: string; insert?: string; 'probe-model'?: string; checkpoint?: string; hf?: string; 'hf-gpt2'?: string }, tok: TextCodec, model: CausalLM) {
  if (!values.probe && !values.insert) return undefined;
  if (!values.probe || !values.insert) throw new BonsaiError('--probe and --insert go together');
  const probeModel = values['probe-model'] ?? values.checkpoint;
  let frozen: CausalLM;
  if (!probeModel) frozen = model.frozenCopy(); // the --hf model itself: no second read of its weights
  else {
    const base = fromCheckpoint(probeModel).model;
    frozen = base.frozenCopy();
    base.dispose();
  }
  const probe = loadProbe(values.probe, frozen);
  return { intervention: probeIntervention({ frozen, probe, tokens: tok.encode(values.insert) }), dispose: () => (probe.dispose(), frozen.dispose()) };
}
