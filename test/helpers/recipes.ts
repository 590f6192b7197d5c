import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecipe, type Recipe } from '../../src/recipe/index.ts';

/** A fresh temporary directory for one test. */
export function tempDir(prefix = 'bonsai-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A few KB of text with structure a tiny model can learn quickly. */
export function writeTinyCorpus(dir: string): string {
  const path = join(dir, 'corpus.txt');
  const lines = Array.from({ length: 120 }, (_, i) => `the cat ${i % 7} sat on the mat ${i % 5}.`);
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** A tiny SFT recipe on the cpu backend (the reference numerics), writing into `dir`. */
export function tinyRecipe(dir: string, opts: TinyOptions & { overrides?: string[] } = {}): Recipe {
  const file = writeTinyRecipe(dir, opts);
  return parseRecipe(readFileSync(file, 'utf8'), file, { overrides: opts.overrides ?? [] });
}

export interface TinyOptions {
  steps?: number;
  every?: number;
  /** YAML appended at the top level (sections not set here). */
  extra?: string;
  /** Replaces the data.train line. */
  train?: string;
}

/** Writes the tiny recipe (and its corpus) into `dir`; returns the recipe's path. */
export function writeTinyRecipe(dir: string, opts: TinyOptions = {}): string {
  const corpus = writeTinyCorpus(dir);
  const text = `
run: { name: tiny, seed: 3, out_dir: ${join(dir, 'out')} }
backend: cpu
model:
  init:
    config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 }
data:
  train: ${opts.train ?? `{ format: text, path: ${corpus} }`}
  eval_fraction: 0.1
trainer:
  kind: sft
  steps: ${opts.steps ?? 8}
  batch_size: 4
  optimizer: { kind: adamw, lr: 1.0e-2, weight_decay: 0.1 }
  schedule: { kind: cosine, warmup_steps: 2 }
  eval: { every: 0, batches: 2 }
  log_every: 1
gradients: [ { kind: clip, max_norm: 1.0 } ]
checkpoint: { every: ${opts.every ?? 0}, keep: 2 }
tracking: { uri: ${join(dir, 'mlruns')}, experiment: test }
${opts.extra ?? ''}`;
  const file = join(dir, 'tiny.yaml');
  writeFileSync(file, text);
  return file;
}
