/**
 * config.json ↔ DecoderConfig for any registered family: `model_type` picks the family
 * module, whose reader maps the fields. Every field bonsai cannot honour is reported at once,
 * each named, so a user fixes a checkpoint in one pass.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../../errors.ts';
import type { DecoderConfig, FamilyRecipeConfig } from './family.ts';
import { HfFields } from './fields.ts';
import { FAMILIES, familyOf, familyOfModelType } from './index.ts';

/**
 * Maps a Hugging Face config.json to a DecoderConfig. `file` names the config in errors;
 * `contextLength` (default: the largest the family's config allows) becomes nCtx, the longest
 * sequence forward() accepts. Learned positions (GPT-2) keep their table's length.
 */
export function decoderConfigFromHf(hf: Record<string, unknown>, file: string, contextLength?: number): DecoderConfig {
  if (!hf || typeof hf !== 'object' || Array.isArray(hf)) throw new BonsaiError('config.json is not a JSON object', { where: file });
  const f = new HfFields(hf, file);
  const modelType = String(hf.model_type);
  const family = familyOfModelType(modelType);
  if (!family) f.bad('model_type', `"${modelType}" is not a family bonsai loads (known: ${FAMILIES.flatMap((m) => m.modelTypes).join(', ')})`);
  const archs = Array.isArray(hf.architectures) ? (hf.architectures as unknown[]).map(String) : [];
  const known = FAMILIES.flatMap((m) => m.architectures);
  const unknownArch = archs.filter((a) => !known.includes(a));
  if (unknownArch.length > 0) f.bad('architectures', `${unknownArch.join(', ')} not supported (known: ${known.join(', ')})`);
  if (!family) return fail(f);
  const config: DecoderConfig = { family: family.name, ...family.readConfig(f) };
  if (contextLength !== undefined) {
    if (contextLength > config.nCtx) f.bad('max_position_embeddings', `${config.nCtx} is less than the requested context of ${contextLength} tokens`);
    else if (config.positions === 'rope') config.nCtx = contextLength;
  }
  return f.problems.length ? fail(f) : config;
}

function fail(f: HfFields): never {
  if (f.problems.length === 1) throw f.problems[0]!;
  throw new BonsaiErrors(`${f.file}: ${f.problems.length} config fields bonsai cannot honour`, f.problems);
}

/**
 * The DecoderConfig of a fresh family model: written as the config.json a Hugging Face
 * model of that family would have and read through decoderConfigFromHf, so a model trained
 * from scratch has exactly the semantics (and, saved, the config.json) of a loaded one.
 */
export function familyConfigFromRecipe(c: FamilyRecipeConfig, where = 'model.init.config'): DecoderConfig {
  return decoderConfigFromHf(hfConfigForRecipe(c), where);
}

/** The Hugging Face config.json of a from-scratch family model. */
export function hfConfigForRecipe(c: FamilyRecipeConfig): Record<string, unknown> {
  return familyOf(c).scratchConfig(c);
}

/**
 * The config.json of a DecoderConfig: the inverse of decoderConfigFromHf, so a bonsai
 * checkpoint (trained from scratch, or loaded from a directory whose config.json it did not
 * keep) can be written back in Hugging Face's layout. `max_position_embeddings` is nCtx.
 */
export function hfConfigOfDecoder(c: DecoderConfig): Record<string, unknown> {
  return familyOf(c).writeConfig(c);
}

/** A JSON file as an object; a missing or broken file is one error naming it. */
export function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new BonsaiError(`${path}: missing`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new BonsaiError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** A Hugging Face model directory's config.json, parsed (not yet checked). */
export function readHfConfigJson(dir: string): Record<string, unknown> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BonsaiError(`no such directory: ${dir}`);
  return readJson(join(dir, 'config.json'));
}

/**
 * The tokenizer a Hugging Face directory implies: its tokenizer.json (`hf`), or, without one,
 * its family's own (GPT-2's BPE: GPT-2 folders often ship only config.json and the weights).
 */
export function hfTokenizerKind(dir: string): 'hf' | 'gpt2' {
  if (existsSync(join(dir, 'tokenizer.json'))) return 'hf';
  let modelType: unknown;
  try {
    modelType = readHfConfigJson(dir).model_type;
  } catch {
    return 'hf'; // the config's own error is reported where the model loads
  }
  return familyOfModelType(String(modelType))?.builtinTokenizer ?? 'hf';
}

export type { DecoderConfig, FamilyRecipeConfig, RopeScaling } from './family.ts';
