import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHfGpt2 } from '../../src/models/families/load.ts';
import { modelConfig } from '../../src/models/index.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/models/checkpoint.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const config = modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 12, tiedEmbeddings: false });

/** A saved byte-level model, a little JSONL to take curvature on, and an edit recipe for them. */
function setup(seed = 1, rho = '0.5', extra = '') {
  const dir = tempDir('bonsai-edit-');
  const ckpt = join(dir, `ckpt-${seed}`);
  const m = HookedTransformer.create(config, seed);
  saveCheckpoint(ckpt, { config, tokenizer: 'byte', weights: m.valuesSync() });
  m.dispose();
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `k${i}=`, completion: `v${i * 7}` })).join('\n') + '\n');
  const recipe = join(dir, 'edit.yaml');
  writeFileSync(
    recipe,
    [
      'job: edit',
      `run: { name: e, out_dir: ${join(dir, 'out')} }`,
      'backend: cpu',
      `model: { tokenizer: byte, init: { checkpoint: ${ckpt} } }`,
      'edit:',
      '  kind: kfac',
      `  data: { format: jsonl, path: ${data} }`,
      rho.startsWith('choose_rho:') ? `  ${rho}` : `  rho: ${rho}`,
      '  tokens: 40',
      '  batch_size: 4',
      extra,
    ].join('\n') + '\n',
  );
  return { dir, ckpt, recipe, out: join(dir, 'out') };
}

describe('bonsai edit (K-FAC)', () => {
  it('ρ = 1 writes an unchanged checkpoint; a second ρ reuses the factors and edits', () => {
    const s = setup(1, '1');
    const r = bonsai(['edit', s.recipe]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/blocks\.0\.mlp\.W_in\s+1\s+1024 \/ 1024\s+1\.0000\s+0\.0000/);
    const before = loadCheckpoint(s.ckpt).weights;
    const after = loadCheckpoint(join(s.out, 'model')).weights;
    for (const [path, w] of before) {
      const a = after.get(path)!;
      for (let i = 0; i < w.length; i++) expect(Math.abs(a[i]! - w[i]!)).toBeLessThan(1e-5);
    }
    const again = bonsai(['edit', s.recipe, '--set', 'edit.rho=0.5']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/reusing K-FAC factors/);
    expect(again.stdout).toMatch(/\(reused\)/);
    const report = JSON.parse(readFileSync(join(s.out, 'edit-report.json'), 'utf8'));
    expect(report.targets.map((t: { path: string }) => t.path)).toEqual(['blocks.0.mlp.W_in', 'blocks.0.mlp.W_out']);
    for (const t of report.targets) {
      expect(t.kept).toBeLessThan(t.components);
      expect(t.massKept).toBeGreaterThanOrEqual(0.5);
      expect(t.relativeChange).toBeGreaterThan(0);
    }
  });

  it('ρ outside (0, 1] is a recipe error with its line and column', () => {
    const s = setup(1, '1.5');
    const r = bonsai(['edit', s.recipe]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${s.recipe}:8:3: edit.rho: must be <= 1, got 1.5`);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const zero = bonsai(['edit', s.recipe, '--set', 'edit.rho={ "blocks.*": 0 }']);
    expect(zero.stderr).toMatch(/edit\.rho\.blocks\.\*: must be > 0, got 0/);
  });

  it('a target glob that matches nothing lists the nearest editable paths', () => {
    const s = setup(1, '0.5', '  targets: [ "blocks.0.mlp.W_inn" ]');
    const r = bonsai(['edit', s.recipe]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/edit\.targets: "blocks\.0\.mlp\.W_inn" matches no parameter; nearest editable paths: blocks\.0\.mlp\.W_in/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("refuses factors collected on another model, by fingerprint", () => {
    const a = setup(1, '0.5');
    expect(bonsai(['edit', a.recipe]).code).toBe(0);
    const b = setup(2, '0.5', `  factors: ${join(a.out, 'kfac-factors.safetensors')}`);
    const r = bonsai(['edit', b.recipe]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/were collected on another model \(fingerprint sha256:/);
    expect(existsSync(join(b.out, 'model'))).toBe(false);
  });

  // GPT-2's 50257-token vocabulary makes the curvature pass slow on the pure-JS backend: its own timeout.
  it('a Hugging Face GPT-2 input comes back in the Hugging Face layout', { timeout: 400_000 }, () => {
    const s = setup(1, '0.9');
    const recipe = readFileSync(s.recipe, 'utf8').replace(/model: .*/, 'model: { init: { hf_gpt2: test/fixtures/gpt2-tiny } }').replace('tokens: 40', 'tokens: 16');
    writeFileSync(s.recipe, recipe);
    const r = bonsai(['edit', s.recipe]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Hugging Face layout/);
    const edited = loadHfGpt2(join(s.out, 'model'));
    const base = loadHfGpt2('test/fixtures/gpt2-tiny');
    expect(edited.model.fingerprint()).not.toBe(base.model.fingerprint());
    expect(edited.config).toEqual(base.config);
    edited.model.dispose();
    base.model.dispose();
  });

  it('choose_rho walks ρ down and keeps the last one whose held-out loss stays within the budget', () => {
    const s = setup(1, '');
    const valid = join(s.dir, 'valid.jsonl');
    writeFileSync(valid, Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `h${i}=`, completion: `w${i}` })).join('\n') + '\n');
    writeFileSync(s.recipe, readFileSync(s.recipe, 'utf8').replace('  rho: \n', `  choose_rho: { validation: { format: jsonl, path: ${valid} }, max_loss_increase: 0.05, step: 0.1, min_rho: 0.5 }\n`));
    const r = bonsai(['edit', s.recipe]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(s.out, 'edit-report.json'), 'utf8')) as { choice: { rho: number; baseLoss: number; tried: Array<{ rho: number; loss: number }> }; targets: Array<{ rho: number }> };
    const { rho, baseLoss, tried } = report.choice;
    expect(tried.map((t) => t.rho)).toEqual([0.9, 0.8, 0.7, 0.6, 0.5].slice(0, tried.length));
    // Every ρ before the last one tried was within the budget; the last was not, unless the grid ran out.
    const within = tried.map((t) => t.loss - baseLoss <= 0.05);
    const firstOver = within.indexOf(false);
    expect(rho).toBe(firstOver === 0 ? 1 : tried[(firstOver < 0 ? tried.length : firstOver) - 1]!.rho);
    if (firstOver >= 0) expect(firstOver).toBe(tried.length - 1);
    for (const t of report.targets) expect(t.rho).toBe(rho);
    expect(r.stdout).toMatch(new RegExp(`rho chosen on the held-out split: ${rho} \\(tried 0\\.9: `));
  });

  it('refuses, at its line, a choose_rho split that is empty or shares items with edit.data, and rho given twice', () => {
    const s = setup(1, '');
    const data = join(s.dir, 'data.jsonl');
    const empty = join(s.dir, 'empty.jsonl');
    writeFileSync(empty, '\n\n');
    const withRule = (validation: string, rho = '') =>
      writeFileSync(s.recipe, readFileSync(s.recipe, 'utf8').replace(/  (rho|choose_rho): .*\n/, `  choose_rho: { validation: { format: jsonl, path: ${validation} }, max_loss_increase: 0.01 }\n${rho}`));
    withRule(data);
    let r = bonsai(['edit', s.recipe]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/edit\.yaml:8:\d+: edit\.choose_rho\.validation: .*data\.jsonl shares 12 items with edit\.data .*data\.jsonl, e\.g\. "k0=" \(line 1 here, line 1 there\)/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    withRule(empty);
    r = bonsai(['edit', s.recipe]);
    expect(r.stderr).toMatch(/edit\.yaml:8:\d+: edit\.choose_rho\.validation: .*empty\.jsonl holds no items/);
    withRule(empty, '  rho: 0.5\n');
    r = bonsai(['edit', s.recipe]);
    expect(r.stderr).toMatch(/edit\.rho: give exactly one of rho \(a fixed share\) and choose_rho/);
  });
});
