/** A checkpoint records the special-token rule its run used; --resume of a run from before the rule keeps its old ids. */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.ts';
import { latestCheckpoint, resumedRule } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** The llama3 fixture with add_bos_token true: its tokenizer puts <|endoftext|> (280) first. */
function bosDir(dir: string): string {
  const m = join(dir, 'm');
  cpSync('test/fixtures/hf/llama3', m, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(m, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(m, 'tokenizer_config.json'), JSON.stringify({ ...cfg, add_bos_token: true }));
  return m;
}

const recipeText = (dir: string, hf: string, steps: number) => `
run: { name: st, seed: 1, out_dir: ${join(dir, 'out')} }
backend: cpu
model: { init: { hf: ${hf} } }
data: { train: { format: text, path: ${writeTinyCorpus(dir)} }, seq_len: 16, eval_fraction: 0.1 }
trainer: { kind: sft, steps: ${steps}, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 }, eval: { every: 0, batches: 1 }, log_every: 1 }
checkpoint: { every: 2, keep: 2 }
tracking: { uri: none }
`;

/** Rewrites a checkpoint's config.json as a run from before the rule wrote it (no special_tokens), manifest included. */
function makeLegacy(ck: string): void {
  const cfgPath = join(ck, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  delete cfg.special_tokens;
  const bytes = Buffer.from(JSON.stringify(cfg, null, 2));
  writeFileSync(cfgPath, bytes);
  const manifest = JSON.parse(readFileSync(join(ck, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
  manifest.files['config.json'] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  writeFileSync(join(ck, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

describe('special tokens across checkpoints', () => {
  it('a run records its rule; --resume of a run written before the rule keeps feeding the text alone', async () => {
    const dir = tempDir();
    const hf = bosDir(dir);
    const lines: string[] = [];
    await train(parseRecipe(recipeText(dir, hf, 2), join(dir, 'r.yaml')), { onLog: (l) => lines.push(l) });
    const first = latestCheckpoint(join(dir, 'out'))!;
    expect(JSON.parse(readFileSync(join(first, 'config.json'), 'utf8')).special_tokens).toBe('transformers');
    expect(resumedRule(join(dir, 'out'))).toBe('transformers');

    makeLegacy(first);
    expect(resumedRule(join(dir, 'out'))).toBe('none');
    const r = await train(parseRecipe(recipeText(dir, hf, 4), join(dir, 'r.yaml')), { resume: true });
    expect(r.step).toBe(4);
    const resumed = latestCheckpoint(join(dir, 'out'))!;
    expect(resumed).not.toBe(first);
    // The resumed run fed the ids its checkpoint's run fed, and says so in its own checkpoint.
    expect(JSON.parse(readFileSync(join(resumed, 'config.json'), 'utf8')).special_tokens).toBe('none');
  });
});
