import { describe, expect, it } from 'vitest';
import { BonsaiErrors } from '../../src/errors.ts';
import { parseRecipe, recipeJsonSchema } from '../../src/recipe/index.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';

function recipe(ray: string, overrides: string[] = []) {
  const corpus = writeTinyCorpus(tempDir('bonsai-ray-schema-'));
  const text = `model: { init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } } }
data: { train: { format: text, path: ${corpus} } }
trainer: { kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 } }
${ray}`;
  return parseRecipe(text, 'r.yaml', { overrides });
}

function errorsOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof BonsaiErrors) return e.message;
    throw e;
  }
  throw new Error('expected recipe errors');
}

describe('the recipe ray: section', () => {
  it('is optional, and fills its defaults when present', () => {
    expect(recipe('').ray).toBeUndefined();
    expect(recipe('ray: { gpus: 1 }').ray).toEqual({ gpus: 1, env: {}, excludes: [] });
    expect(recipe('', ['ray.cpus=2']).ray).toMatchObject({ cpus: 2 });
  });

  it('reports bad fields with their place, like every recipe error', () => {
    const msg = errorsOf(() => recipe('ray:\n  cpus: -1\n  env: { "1BAD": x }\n  gpu: 1\n'));
    expect(msg).toContain('r.yaml:5:3: ray.cpus: must be >= 0, got -1');
    expect(msg).toContain('ray.env.1BAD: "1BAD" is not an environment variable name');
    expect(msg).toContain('r.yaml:7:3: ray.gpu: unknown key; did you mean "gpus"?');
  });

  it('is in the JSON Schema editors read', () => {
    type Node = { properties?: Record<string, Node>; else?: Node };
    const training = (recipeJsonSchema() as Node).else!.else!; // after the edit and sae branches
    const props = training.properties!.ray;
    expect(Object.keys(props?.properties ?? {})).toEqual(expect.arrayContaining(['cpus', 'gpus', 'memory', 'env', 'image_uri', 'excludes']));
  });
});
