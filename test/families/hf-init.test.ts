/** `model.init.hf: DIR` in recipes: checked from config.json alone, trained, and refused with one message per field. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.ts';
import { train } from '../../src/trainer/index.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

function recipeText(dir: string, hfDir: string, extra = ''): string {
  return `
run: { name: hf-init, seed: 1, out_dir: ${join(dir, 'out')} }
backend: cpu
model: { tokenizer: byte, init: { hf: ${hfDir} } }
data: { train: { format: text, path: ${writeTinyCorpus(dir)} }, seq_len: 16, eval_fraction: 0.1 }
trainer: { kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 }, eval: { every: 0, batches: 1 }, log_every: 1 }
checkpoint: { every: 0, keep: 1 }
tracking: { uri: none }
${extra}`;
}

describe('model.init.hf', () => {
  it('fine-tunes a Llama-3 directory (GQA, llama3 rope scaling) with a head freeze checked against its layout', async () => {
    const dir = tempDir();
    const recipe = parseRecipe(recipeText(dir, 'test/fixtures/hf/llama3', 'freeze: [ { heads: "blocks.1.attn[3]" } ]'), join(dir, 'r.yaml'));
    const lines: string[] = [];
    const r = await train(recipe, { onLog: (l) => lines.push(l) });
    expect(r.step).toBe(2);
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
  });

  it('refuses, before any weights load, a sliding window larger than the context and a head past the query heads', () => {
    const dir = tempDir();
    cpSync('test/fixtures/hf/mistral', join(dir, 'm'), { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'm', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'm', 'config.json'), JSON.stringify({ ...cfg, sliding_window: 65 }));
    expect(() => parseRecipe(recipeText(dir, join(dir, 'm')), join(dir, 'r.yaml'))).toThrow(/config\.json: sliding_window: 65 is larger than the context \(max_position_embeddings 64\)/);
    expect(() => parseRecipe(recipeText(dir, 'test/fixtures/hf/mistral', 'freeze: [ { heads: "blocks.0.attn[4]" } ]'), join(dir, 'r.yaml'))).toThrow(
      /names heads 4 but each block has 4 heads \(0…3\); with grouped-query attention these are query heads/,
    );
  });
});
