import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecipe, type Recipe } from '../../src/recipe/index.ts';

/**
 * A tiny RL recipe on the cpu backend (byte tokenizer, one 16-wide layer, fresh init from a
 * seed) with cheap deterministic rewards, writing into `dir`. `extra` is YAML appended at
 * the top level (freeze, interventions); `init` replaces model.init (YAML); `overrides` are --set style.
 */
export function tinyRlRecipe(dir: string, opts: { steps?: number; weightDecay?: number; klBeta?: number; extra?: string; overrides?: string[]; init?: string } = {}): Recipe {
  const prompts = join(dir, 'prompts.jsonl');
  const rows = ['a:', 'b:', 'c:', 'd:', 'e:'].map((p, i) => JSON.stringify({ prompt: p, completion: ` ${'xyz'[i % 3]}` }));
  writeFileSync(prompts, rows.join('\n') + '\n');
  const file = join(dir, 'rl.yaml');
  writeFileSync(file, `
run: { name: tiny-rl, seed: 5, out_dir: ${join(dir, 'out')} }
backend: cpu
model:
  tokenizer: byte
  init: ${opts.init ?? '{ config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } }'}
data:
  train: { format: jsonl, path: ${prompts} }
trainer:
  kind: rl
  steps: ${opts.steps ?? 6}
  batch_size: 2
  group_size: 4
  max_new_tokens: 4
  kl_beta: ${opts.klBeta ?? 0.05}
  inner_epochs: 2
  optimizer: { kind: adamw, lr: 3.0e-2, weight_decay: ${opts.weightDecay ?? 0.1} }
  schedule: { kind: cosine, warmup_steps: 2 }
  log_every: 1
rewards:
  # Varies within groups from step 1 (a printable first byte is ~37% likely at init), so advantages are non-zero.
  - { name: printable, kind: regex, pattern: "^[ -~]", weight: 1.0 }
  - { name: len, kind: length, target: 2, weight: 0.5 }
  - { name: correct, kind: exact_match, weight: 0.5 }
gradients: [ { kind: clip, max_norm: 1.0 } ]
checkpoint: { every: 0, keep: 2 }
tracking: { uri: ${join(dir, 'mlruns')}, experiment: test }
${opts.extra ?? ''}`);
  return parseRecipe(readFileSync(file, 'utf8'), file, { overrides: opts.overrides ?? [] });
}
