/** Shared by the recipe tests: run a load and get back exactly what the user would read. */
import { BonsaiErrors } from '../../src/errors.ts';
import type { RecipeIssue } from '../../src/recipe/index.ts';

/** The single-error lines a failed load prints (`where: path: detail`), in order. */
export function errorLines(load: () => unknown): string[] {
  return issuesOf(load).map((e) => e.message);
}

/** The errors of a load that must fail; fails the test if it does not throw BonsaiErrors. */
export function issuesOf(load: () => unknown): RecipeIssue[] {
  try {
    load();
  } catch (e) {
    if (e instanceof BonsaiErrors) return e.errors as RecipeIssue[];
    throw e;
  }
  throw new Error('expected the recipe to be refused, but it loaded');
}

/** A valid recipe body to build test recipes from (data path relative to the repo root). */
export const VALID = `model:
  init:
    config: { d_model: 32, n_layers: 2, n_heads: 4, n_ctx: 64 }
data:
  train: { format: text, path: test/fixtures/recipes/tiny.txt }
trainer:
  kind: sft
  steps: 10
  batch_size: 2
  optimizer: { kind: adamw, lr: 3e-4 }
`;
