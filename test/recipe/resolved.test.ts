import { describe, expect, it } from 'vitest';
import { flattenRecipe, loadRecipe, parseRecipe, resolvedRecipeYaml } from '../../src/recipe/index.ts';

describe('resolved recipe', () => {
  const full = loadRecipe('test/fixtures/recipes/full.yaml');
  const minimal = loadRecipe('test/fixtures/recipes/minimal.yaml');

  it('writes YAML that loads back to the same recipe', () => {
    for (const r of [full, minimal]) expect(parseRecipe(resolvedRecipeYaml(r), 'other-name.yaml')).toEqual(r);
  });

  it('writes every default, keeping short number lists on one line', () => {
    const text = resolvedRecipeYaml(minimal);
    expect(text.startsWith('# Resolved recipe: every default filled in.\n')).toBe(true);
    expect(text).toContain('    betas: [0.9, 0.999]\n');
    expect(text).toContain('\n  out_dir: runs/minimal\n');
    expect(text).toContain('\ngradients: []\n');
  });

  it('flattens to dotted string params, lists by index', () => {
    const params = flattenRecipe(full);
    expect(params).toMatchObject({
      'run.name': 'full-run',
      'trainer.optimizer.lr': '0.001',
      'trainer.optimizer.betas.1': '0.95',
      'gradients.0.kind': 'clip',
      'gradients.0.max_norm': '1',
      'model.init.config.tied_embeddings': 'false',
      'sample.top_p': '0.9',
    });
    expect(Object.values(params).every((v) => typeof v === 'string')).toBe(true);
    expect(flattenRecipe(minimal)).toMatchObject({ gradients: '[]' });
    expect(flattenRecipe(minimal)).not.toHaveProperty('sample');
    expect(Object.keys(flattenRecipe(minimal))).toHaveLength(45); // job and memory.ce_chunk/recompute included
  });
});
