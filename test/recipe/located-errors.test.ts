import { describe, expect, it } from 'vitest';
import { BonsaiError, BonsaiErrors } from '../../src/errors.ts';
import { loadRecipe, parseRecipe, RecipeIssue } from '../../src/recipe/index.ts';
import { errorLines, issuesOf, VALID } from './helpers.ts';

const BROKEN = 'test/fixtures/recipes/broken.yaml';

describe('located errors', () => {
  it('reports every error in a broken recipe at once, in line order', () => {
    const at = (pos: string, msg: string) => `${BROKEN}:${pos}: ${msg}`;
    expect(errorLines(() => loadRecipe(BROKEN))).toEqual([
      at('3:3', 'run.seed: must be >= 0, got -1'),
      at('4:1', 'backend: expected one of auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu, got string "gpu"; did you mean "cpu"?'),
      at('11:7', 'model.init.config.n_heads: n_heads (4) must divide d_model (30)'),
      at('14:12', 'data.train.format: expected one of text | jsonl, got string "csv"'),
      at('14:25', `data.train.path: no such file: "test/fixtures/recipes/missing.txt" (relative to ${process.cwd()})`),
      at('15:3', 'data.seq_len: seq_len (128) must be <= model.init.config.n_ctx (64)'),
      at('16:1', 'trainer.batch_size: missing required field'),
      at('16:1', 'trainer.optimizer: missing required field'),
      at('19:3', 'trainer.optimzer: unknown key; did you mean "optimizer"?'),
      at('23:19', 'gradients.0.max_norm: must be > 0, got 0'),
      at('24:7', 'gradients.1.kind: expected one of clip | project_out | pcgrad | observe, got string "clap"; did you mean "clip"?'),
      at('25:28', 'tracking.experimnt: unknown key; did you mean "experiment"?'),
    ]);
  });

  it('gives each error its path, line and column as fields, under one BonsaiErrors', () => {
    let thrown: unknown;
    try {
      loadRecipe(BROKEN);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BonsaiErrors);
    const errors = (thrown as BonsaiErrors).errors;
    expect(errors.every((e) => e instanceof RecipeIssue)).toBe(true);
    expect(errors[0]).toMatchObject({ path: 'run.seed', line: 3, col: 3, where: `${BROKEN}:3:3` });
    expect((thrown as Error).message.split('\n')[0]).toBe(`${BROKEN}: recipe has 12 errors`);
  });

  it('reads as sentences, never as a zod dump', () => {
    const message = (() => {
      try {
        loadRecipe(BROKEN);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).not.toMatch(/Invalid input|ZodError|"code":|\bat .*\.ts:\d+/);
  });

  it('points at the field of a wrong type, and names both types', () => {
    const text = VALID.replace('lr: 3e-4', 'lr: fast');
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual(['r.yaml:10:29: trainer.optimizer.lr: expected number, got string "fast"']);
  });

  it('locates a missing required field at its parent', () => {
    const text = VALID.replace('  steps: 10\n', '');
    expect(issuesOf(() => parseRecipe(text, 'r.yaml'))).toMatchObject([{ path: 'trainer.steps', line: 6, col: 1 }]);
    expect(errorLines(() => parseRecipe('trainer: { kind: sft }\n', 'r.yaml'))[0]).toBe('r.yaml:1:1: model: missing required field');
  });

  it('runs cross-field checks even when other fields are broken', () => {
    const text = VALID.replace('n_heads: 4', 'n_heads: 5').replace('steps: 10', 'steps: ten');
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:3:41: model.init.config.n_heads: n_heads (5) must divide d_model (32)',
      'r.yaml:8:3: trainer.steps: expected number, got string "ten"',
    ]);
  });

  it('reports YAML syntax errors with their position, and nothing spurious after them', () => {
    const text = 'run: { name: x\nbackend: cpu\nbackend: wasm\n';
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:2:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
      'r.yaml:3:1: invalid YAML: Map keys must be unique',
    ]);
  });

  it('refuses a top level that is not a mapping', () => {
    expect(errorLines(() => parseRecipe('- model\n- data\n', 'r.yaml'))).toEqual([
      'r.yaml:1:1: a recipe must be a YAML mapping of sections (run:, model:, data:, ...), got a list',
    ]);
    expect(errorLines(() => parseRecipe('# nothing\n', 'r.yaml'))).toEqual([
      'r.yaml:1:1: a recipe must be a YAML mapping of sections (run:, model:, data:, ...), got an empty document',
    ]);
    expect(errorLines(() => parseRecipe('just words', 'r.yaml'))[0]).toMatch(/got string "just words"$/);
  });

  it('says plainly when the recipe file cannot be read', () => {
    expect(() => loadRecipe('test/fixtures/recipes/nope.yaml')).toThrow(
      new BonsaiError('cannot read recipe: no such file', { where: 'test/fixtures/recipes/nope.yaml' }),
    );
  });

  it('refuses a checkpoint that is a file, and a data path that is a directory', () => {
    const text = VALID.replace(/config: .*/, 'checkpoint: test/fixtures/recipes/tiny.txt').replace('recipes/tiny.txt }', 'recipes }');
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:3:5: model.init.checkpoint: expected a directory, but "test/fixtures/recipes/tiny.txt" is a file',
      'r.yaml:5:26: data.train.path: expected a file, but "test/fixtures/recipes" is a directory',
    ]);
  });
});
