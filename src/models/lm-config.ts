/**
 * The config any CausalLM carries (model.ts): GPT-2's ModelConfig or a Hugging Face family's
 * DecoderConfig, told apart by `family`. Both have the family-neutral dims every tool reads
 * (vocabSize, dModel, nLayers, nHeads, nKvHeads, dHead, dMlp, nCtx, tiedEmbeddings).
 * Checkpoints store it as `storedConfig` gives it; `configFromStored` reads it back,
 * including GPT-2 configs written before families existed (no `family` field).
 */
import { BonsaiError } from '../errors.ts';
import { sameGpt2Architecture, validateModelConfig, withDerived, type ModelConfig } from './config.ts';
import type { DecoderConfig, FamilyName } from './families/config.ts';

/** Every architecture bonsai builds: GPT-2 and the Hugging Face decoder families. */
export type ModelFamily = 'gpt2' | FamilyName;

/** A model's config, any family. */
export type LMConfig = ModelConfig | DecoderConfig;

/**
 * The config as a checkpoint's config.json stores it. GPT-2's drops the derived fields so a
 * GPT-2 checkpoint is byte-for-byte what bonsai wrote before families existed.
 */
export function storedConfig(c: LMConfig): Record<string, unknown> {
  if (c.family !== 'gpt2') return { ...c };
  const { family: _f, nKvHeads: _k, dHead: _d, ...rest } = c;
  return rest;
}

/** A stored config (checkpoint config.json's `model`) as an LMConfig; `where` names the file in errors. */
export function configFromStored(raw: unknown, where: string): LMConfig {
  if (!raw || typeof raw !== 'object') throw new BonsaiError(`${where}: model config missing or not an object`);
  const r = raw as Record<string, unknown>;
  if (r.family === undefined || r.family === 'gpt2') {
    const c = withDerived(r as unknown as ModelConfig);
    validateModelConfig(c, `model config in ${where}`);
    return c;
  }
  const known: ModelFamily[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt_neox'];
  if (!known.includes(r.family as ModelFamily)) throw new BonsaiError(`${where}: model family ${JSON.stringify(r.family)} unknown (known: gpt2, ${known.join(', ')})`);
  return r as unknown as DecoderConfig;
}

/** True when two configs describe the same architecture (so weights of one fit the other). */
export function sameArchitecture(a: LMConfig, b: LMConfig): boolean {
  if (a.family === 'gpt2' && b.family === 'gpt2') return sameGpt2Architecture(a, b);
  if (a.family !== b.family) return false;
  const { initStd: _a, ...ra } = a as DecoderConfig;
  const { initStd: _b, ...rb } = b as DecoderConfig;
  return canonical(ra) === canonical(rb);
}

/** JSON with object keys sorted at every level, so key order does not matter. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** One line for error messages: the family and its dims. */
export function describeConfig(c: LMConfig): string {
  const family = c.family === 'gpt2' ? '' : `${c.family}, `;
  const kv = c.nKvHeads !== c.nHeads ? ` (${c.nKvHeads} key/value)` : '';
  return `${family}vocab ${c.vocabSize}, d_model ${c.dModel}, ${c.nLayers} layers, ${c.nHeads} heads${kv}, d_mlp ${c.dMlp}, n_ctx ${c.nCtx}${c.tiedEmbeddings ? ', tied' : ', untied'}`;
}

/** `c` as a GPT-2 config, or a BonsaiError saying `what` supports GPT-2 models only. */
export function requireGpt2(c: LMConfig, what: string): ModelConfig {
  if (c.family !== undefined && c.family !== 'gpt2') throw new BonsaiError(`${what} supports GPT-2 models only; this model is ${c.family}`);
  return c;
}
