import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAnyRecipe, loadEditRecipe, recipeJsonSchema } from '../../src/recipe/index.ts';
import { loadSaeRecipe } from '../../src/recipe/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : [],
  );
}

/**
 * A stand-in for the checkpoint a chain's first recipe writes: the fixture's config with the
 * context length that recipe trains (RL's prompt-room check reads it, so a 64-token stand-in
 * would refuse a chain whose base has a longer context, and pass one whose base is shorter).
 */
function standIn(fixture: string, baseRecipe: string): string {
  const nCtx = /n_ctx: *(\d+)/.exec(baseRecipe);
  if (!nCtx) return `test/fixtures/recipes/${fixture}`;
  const config = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/recipes', fixture, 'config.json'), 'utf8'));
  config.model.nCtx = Number(nCtx[1]);
  const dir = mkdtempSync(join(tmpdir(), 'bonsai-standin-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('shipped recipes', () => {
  const files = yamlFiles(join(ROOT, 'recipes')).map((f) => relative(ROOT, f));

  it('there are some', () => expect(files).toContain('recipes/quickstart.yaml'));

  it.each(files)('%s validates and starts with its launch command', (file) => {
    const prev = process.cwd();
    process.chdir(ROOT); // recipe paths are relative to where bonsai runs: the repo root
    try {
      // A recipe that builds on an earlier one's output (`# Needs:`) is validated with its
      // checkpoint pointed at a directory that exists on a fresh clone.
      const text = readFileSync(join(ROOT, file), 'utf8');
      // A chain whose first recipe builds a Llama-family base gets a Llama stand-in.
      const needs = /^# Needs: +([\w./-]+\.yaml)/m.exec(text);
      const first = needs && [join(ROOT, needs[1]!), join(ROOT, dirname(file), needs[1]!)].find((f) => existsSync(f));
      const llama = first !== undefined && first !== null && /family: llama/.test(readFileSync(first, 'utf8'));
      const overrides = needs ? [`model.init.checkpoint=${standIn(llama ? 'llama-checkpoint' : 'checkpoint', first ? readFileSync(first, 'utf8') : '')}`] : [];
      const load = /^job: edit$/m.test(text) ? loadEditRecipe : /^job: sae$/m.test(text) ? loadSaeRecipe : loadAnyRecipe;
      expect(() => load(file, { overrides })).not.toThrow();
    } finally {
      process.chdir(prev);
    }
    expect(readFileSync(join(ROOT, file), 'utf8')).toMatch(new RegExp(`^#.*\\n# Launch: +npx bonsai (train|probe train|edit|sae train) ${file.replace(/\./g, '\\.')}`));
  });

  it('recipe.schema.json is the current schema (regenerate: npx bonsai recipe schema > recipe.schema.json)', () => {
    const shipped = JSON.parse(readFileSync(join(ROOT, 'recipe.schema.json'), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(recipeJsonSchema())));
  });
});
