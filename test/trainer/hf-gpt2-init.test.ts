import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { parseRecipe } from '../../src/recipe/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';

// The tiny random GPT-2 in HF's layout (scripts/make-gpt2-fixture.py): 4 wide, 2 layers,
// GPT-2's 50257-id vocabulary, 16 positions.
const FIXTURE = 'test/fixtures/gpt2-tiny';

// wasm, not cpu: tfjs-cpu's embedding gradient runs one masked reduction per vocabulary
// id (50257 here, ~5 s a step); bonsai's wasm kernel does it in one pass.
function recipeText(dir: string, model: string): string {
  return `
run: { name: hf, seed: 3, out_dir: ${join(dir, 'out')} }
backend: wasm
model:
${model}
data:
  train: { format: text, path: ${writeTinyCorpus(dir)} }
  seq_len: 16
  eval_fraction: 0.1
trainer:
  kind: sft
  steps: 2
  batch_size: 2
  optimizer: { kind: adamw, lr: 1.0e-3, weight_decay: 0.0 }
  schedule: { kind: constant, warmup_steps: 0 }
  eval: { every: 0, batches: 1 }
  log_every: 1
checkpoint: { every: 0, keep: 1 }
tracking: { uri: ${join(dir, 'mlruns')}, experiment: test }
`;
}

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('model.init.hf_gpt2', () => {
  it('implies the gpt2 tokenizer, refuses byte, and is exclusive with config and checkpoint', () => {
    const dir = tempDir();
    const r = parseRecipe(recipeText(dir, `  init: { hf_gpt2: ${FIXTURE} }`), 'r.yaml');
    expect(r.model).toEqual({ tokenizer: 'gpt2', init: { hf_gpt2: FIXTURE } });
    expect(parseRecipe(recipeText(dir, '  init: { config: { d_model: 8, n_layers: 1, n_heads: 2, n_ctx: 16 } }'), 'r.yaml').model.tokenizer).toBe('byte');
    expect(errorOf(() => parseRecipe(recipeText(dir, `  tokenizer: byte\n  init: { hf_gpt2: ${FIXTURE} }`), 'r.yaml'))).toMatch(
      /model\.tokenizer: tokenizer byte cannot be used with init\.hf_gpt2/,
    );
    const both = `  init: { hf_gpt2: ${FIXTURE}, checkpoint: ${FIXTURE} }`;
    expect(errorOf(() => parseRecipe(recipeText(dir, both), 'r.yaml'))).toMatch(/needs exactly one of "config" \(a fresh model\), "checkpoint" \(a saved one\), "hf" \(a Hugging Face directory of any family bonsai implements\) or "hf_gpt2"/);
    expect(errorOf(() => parseRecipe(recipeText(dir, '  init: { hf_gpt2: no/such/dir }'), 'r.yaml'))).toMatch(/model\.init\.hf_gpt2: no such directory: "no\/such\/dir"/);
  });

  it('is init.hf with the tokenizer named: init.hf on the same folder (no tokenizer.json) implies gpt2 and checks to the same model', () => {
    const dir = tempDir();
    const viaHf = parseRecipe(recipeText(dir, `  init: { hf: ${FIXTURE} }`), 'r.yaml');
    expect(viaHf.model).toEqual({ tokenizer: 'gpt2', init: { hf: FIXTURE } });
    const small = join(dir, 'small');
    cpSync(FIXTURE, small, { recursive: true });
    const config = JSON.parse(readFileSync(join(small, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(small, 'config.json'), JSON.stringify({ ...config, vocab_size: 300 }));
    expect(errorOf(() => parseRecipe(recipeText(dir, `  init: { hf_gpt2: ${small} }`), 'r.yaml'))).toMatch(/config\.json: vocab_size \(300\) is smaller than the gpt2 tokenizer's 50257 ids/);
  });

  it('trains 2 steps from the HF weights and checkpoints a GPT-2-tokenizer model', async () => {
    const dir = tempDir();
    const s = await train(parseRecipe(recipeText(dir, `  init: { hf_gpt2: ${FIXTURE} }`), 'r.yaml'));
    expect(s.step).toBe(2);
    expect(Number.isFinite(s.finalLoss)).toBe(true);
    const ck = loadCheckpoint(s.checkpoint!);
    expect(ck.tokenizer).toBe('gpt2');
    expect(ck.config).toMatchObject({ vocabSize: 50257, dModel: 4, nLayers: 2, nHeads: 2, nCtx: 16 });
    // Started from the fixture, not a fresh init: two AdamW steps of lr 1e-3 move each
    // weight by about 2e-3, while a fresh init (std 0.02) would differ by ~0.3.
    const wpe = readSafetensors(join(FIXTURE, 'model.safetensors')).tensors['wpe.weight']!.data as Float32Array;
    const trained = ck.weights.get('pos_embed.W_pos')!;
    const moved = trained.reduce((m, v, i) => Math.max(m, Math.abs(v - wpe[i]!)), 0);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(5e-3);
  });
});
