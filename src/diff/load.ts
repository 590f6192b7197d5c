/**
 * The two sides of a diff: a bonsai checkpoint (or a run's out_dir, its newest checkpoint)
 * or a Hugging Face model folder, loaded the same way, and the check that two of them can
 * be compared weight for weight.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { LMConfig } from '../models/lm-config.ts';
import { hfTokenizerKind } from '../models/families/config.ts';
import { loadHfModel } from '../models/families/load.ts';
import { MANIFEST_NAME } from '../models/checkpoint-io.ts';
import { createTokenizer, type Tokenizer, type TokenizerKind } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { modelFromValues } from '../models/registry.ts';
import { latestCheckpoint, loadCheckpoint } from '../models/checkpoint.ts';

/** One model of a diff. The caller disposes `model`. */
export interface LoadedModel {
  /** The path given (a checkpoint dir, a run out_dir or a Hugging Face folder). */
  path: string;
  model: CausalLM;
  tokenizer: Tokenizer;
  /** = tokenizer.kind (kept for callers that compare kinds without a tokenizer). */
  tokenizerKind: TokenizerKind;
}

/**
 * Loads a model from a path: a Hugging Face model folder of any family (config.json +
 * safetensors and no bonsai manifest), a bonsai checkpoint, or a run's out_dir (its newest
 * checkpoint).
 */
export function loadModelAt(path: string): LoadedModel {
  if (!existsSync(path)) throw new BonsaiError(`no such checkpoint or model folder: ${path}`);
  const weights = existsSync(join(path, 'model.safetensors')) || existsSync(join(path, 'model.safetensors.index.json'));
  if (weights && existsSync(join(path, 'config.json')) && !existsSync(join(path, MANIFEST_NAME))) {
    const kind = hfTokenizerKind(path);
    return { path, model: loadHfModel(path), tokenizer: createTokenizer(kind, path), tokenizerKind: kind };
  }
  let dir = path;
  try {
    dir = latestCheckpoint(path) ?? path;
  } catch {
    // not an out_dir: read it as a checkpoint itself
  }
  const ck = loadCheckpoint(dir);
  return { path, model: modelFromValues(ck.config, ck.weights), tokenizer: createTokenizer(ck.tokenizer, dir), tokenizerKind: ck.tokenizer };
}

/** Fields that must agree for two models' weights to be compared entry by entry. */
const SHAPE_FIELDS = ['family', 'vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'dHead', 'dMlp', 'nCtx', 'tiedEmbeddings'] as const satisfies readonly (keyof LMConfig)[];

/**
 * Throws a BonsaiError naming every field in which A and B differ (architecture fields and
 * the tokenizer, i.e. the vocabulary), with both values; returns quietly when they agree.
 */
export function checkComparable(a: { config: LMConfig; tokenizer: TokenizerKind; path?: string }, b: { config: LMConfig; tokenizer: TokenizerKind; path?: string }): void {
  const diffs: string[] = [];
  for (const k of SHAPE_FIELDS) if (a.config[k] !== b.config[k]) diffs.push(`${k} (A ${a.config[k]}, B ${b.config[k]})`);
  if (a.tokenizer !== b.tokenizer) diffs.push(`tokenizer (A ${a.tokenizer}, B ${b.tokenizer})`);
  if (diffs.length) {
    throw new BonsaiError(`cannot diff ${a.path ?? 'A'} and ${b.path ?? 'B'}: they differ in ${diffs.join(', ')}`, {
      hint: 'a diff compares two checkpoints of one architecture and vocabulary, e.g. a fine-tune and its base',
    });
  }
}
