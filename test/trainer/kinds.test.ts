// Checks of the trainer kinds against the model's config and the tokenizer (pure JS).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnyRecipe } from '../../src/recipe/index.ts';
import { errorLines } from '../recipe/helpers.ts';
import { tempDir } from '../helpers/recipes.ts';

const rl = (train: string, extra = '') => `model:
  init:
    config: { d_model: 32, n_layers: 2, n_heads: 4, n_ctx: 32 }
data:
  train: { format: jsonl, path: ${train} }
trainer:
  kind: rl
  steps: 2
  batch_size: 2
  optimizer: { kind: adamw, lr: 1.0e-3 }
${extra}rewards: [{ name: a, kind: exact_match }]
`;
const details = (text: string) => errorLines(() => parseAnyRecipe(text, 'r.yaml')).map((l) => l.replace(/^r\.yaml:\d+:\d+: /, ''));
const TINY = 'test/fixtures/recipes/tiny.jsonl';

describe('trainer kinds', () => {
  it('rl: each stop text is one token of the recipe tokenizer', () => {
    expect(details(rl(TINY, '  stop: ["\\n", "ab"]\n'))).toEqual(['trainer.stop.1: "ab" is 2 tokens with the byte tokenizer; each stop text must be one token']);
  });

  it('rl: a prompt longer than n_ctx − max_new_tokens is refused, naming the longest', () => {
    const dir = tempDir();
    const file = join(dir, 'prompts.jsonl');
    writeFileSync(file, `${JSON.stringify({ prompt: 'short' })}\n${JSON.stringify({ prompt: 'x'.repeat(20) })}\n`);
    expect(details(rl(file))).toEqual([
      `data.train.path: ${file}: 1 prompt is longer than the 16 tokens a rollout leaves (model n_ctx 32 − trainer.max_new_tokens 16); the longest, record 2, is 20 tokens; lower trainer.max_new_tokens, shorten the prompts, or use a model with a longer n_ctx`,
    ]);
    expect(() => parseAnyRecipe(rl(file, '  max_new_tokens: 8\n'), 'r.yaml')).not.toThrow();
  });

  it('rl: the prompt check runs when another trainer field has a type error', () => {
    const dir = tempDir();
    const file = join(dir, 'prompts.jsonl');
    writeFileSync(file, `${JSON.stringify({ prompt: 'x'.repeat(20) })}\n`);
    const lines = details(rl(file).replace('steps: 2', 'steps: "twenty"'));
    expect(lines).toContain('trainer.steps: expected number, got string "twenty"');
    expect(lines.some((l) => l.startsWith(`data.train.path: ${file}: 1 prompt is longer than the 16 tokens a rollout leaves`))).toBe(true);
  });

  it('rl: max_new_tokens must leave room for a prompt', () => {
    expect(details(rl(TINY, '  max_new_tokens: 32\n'))).toEqual(["trainer.max_new_tokens: must be below the model's context (n_ctx 32), got 32"]);
  });

  it("sft: seq_len must fit a loaded model's context (checkpoint config.json)", () => {
    const text = `model: { init: { checkpoint: test/fixtures/recipes/checkpoint } }
data: { train: { format: text, path: test/fixtures/recipes/tiny.txt }, seq_len: 65 }
trainer: { kind: sft, steps: 1, batch_size: 1, optimizer: { kind: adamw, lr: 1.0e-3 } }
`;
    expect(details(text)).toEqual(["data.seq_len: seq_len (65) must be <= the model's n_ctx (64)"]);
  });
});
