import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/recipe/index.ts';
import { train } from '../../src/trainer/index.ts';
import { useCpu } from '../helpers/tiny.ts';

const ROOT = join(import.meta.dirname, '..', '..');
beforeAll(useCpu);

/** Each shipped task recipe, shortened to a few steps on cpu: it must run end to end. */
const RECIPES = [
  'recipes/spurious-plain.yaml',
  'recipes/spurious-ablate.yaml',
  'recipes/side-plain.yaml',
  'recipes/side-project.yaml',
  'recipes/side-steer.yaml',
  'recipes/forgetting-pretrain.yaml',
  'recipes/forgetting-none.yaml',
  'recipes/forgetting-attribution.yaml',
  'recipes/forgetting-random.yaml',
  'recipes/forgetting-last-block.yaml',
].filter((f) => existsSync(join(ROOT, f)));

describe('task recipes run', () => {
  it.each(RECIPES)('%s trains for 3 steps', async (file) => {
    const prev = process.cwd();
    process.chdir(ROOT); // recipe paths resolve against the repo root
    try {
      const out = mkdtempSync(join(tmpdir(), 'bonsai-task-test-'));
      const fast = ['trainer.steps=3', 'trainer.eval.batches=1', 'backend=cpu', 'tracking.uri=none', `run.out_dir=${out}`];
      if (file.includes('attribution')) fast.push('freeze.0.attribution.batches=1');
      const recipe = loadRecipe(file, { overrides: fast });
      const lines: string[] = [];
      const r = await train(recipe, { onLog: (l) => lines.push(l) });
      expect(r.step).toBe(3);
      if (recipe.freeze.length) expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
    } finally {
      process.chdir(prev);
    }
  });
});
