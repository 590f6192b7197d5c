// Checks of the gradient, freeze and intervention kinds, against the model's config alone.
import { describe, expect, it } from 'vitest';
import { parseAnyRecipe } from '../../src/recipe/index.ts';
import { errorLines, VALID } from '../recipe/helpers.ts';

/** The error details (after `file:line:col: `) of VALID plus `extra`. */
const details = (extra: string) => errorLines(() => parseAnyRecipe(`${VALID}${extra}`, 'r.yaml')).map((l) => l.replace(/^r\.yaml:\d+:\d+: /, ''));
const W32 = 'test/fixtures/recipes/directions-w32.json';

describe('gradient kinds', () => {
  it('project_out: params must match a parameter path', () => {
    expect(details('gradients: [{ kind: project_out, unwanted: { format: text, path: test/fixtures/recipes/tiny.txt }, params: "blocks.0.mlp.W_inn" }]\n')).toEqual([
      expect.stringMatching(/^gradients\.0\.params: "blocks\.0\.mlp\.W_inn" matches no parameter; did you mean "blocks\.0\.mlp\.W_in", /),
    ]);
  });

  it('project_out: a directions file of another kind is refused before the run', () => {
    expect(details(`gradients: [{ kind: project_out, directions: ${W32} }]\n`)).toEqual([
      `gradients.0.directions: ${W32}: holds activation directions, but gradient directions are needed here`,
    ]);
  });
});

describe('freeze-selector kinds', () => {
  it('heads and neurons must exist in the model', () => {
    expect(details('freeze: [{ heads: "blocks.1.attn[3,4]" }, { neurons: "blocks.0.mlp[127,128]" }, { heads: "blocks.2.attn[0]" }]\n')).toEqual([
      'freeze.0.heads: "blocks.1.attn[3,4]" names heads 4 but each block has 4 heads (0…3)',
      'freeze.1.neurons: "blocks.0.mlp[127,128]" names neurons 128 but each block has 128 neurons (0…127)',
      'freeze.2.heads: "blocks.2.attn[0]" names block 2 but the model has 2 (0…1)',
    ]);
  });

  it('a malformed selector and an attribution glob that matches nothing', () => {
    expect(details('freeze: [{ heads: "layer1.head3" }, { attribution: { data: { format: text, path: test/fixtures/recipes/tiny.txt }, top_percent: 5, params: "nope.*" } }]\n')).toEqual([
      'freeze.0.heads: selector: "layer1.head3" is not of the form blocks.<i>.attn[<j>, ...]',
      expect.stringMatching(/^freeze\.1\.attribution\.params: "nope\.\*" matches no parameter; did you mean/),
    ]);
  });

  it('a glob that matches passes', () => {
    expect(() => parseAnyRecipe(`${VALID}freeze: ["blocks.0.attn.*", { heads: "blocks.1.attn[0,3]" }]\n`, 'r.yaml')).not.toThrow();
  });
});

describe('intervention kinds', () => {
  it('the hook must exist, carry features, and match the directions width', () => {
    expect(details(`interventions:\n  - { kind: steer, hook: blocks.0.attn.hook_pattern, directions: ${W32}, coef: 1 }\n  - { kind: ablate, hook: blocks.0.hook_resid_post, directions: ${W32} }\n`)).toEqual([
      'interventions.0.hook: blocks.0.attn.hook_pattern is an attention pattern; it cannot be ablated or steered along directions (use hook_z, hook_resid_*, mlp.hook_post, ...)',
    ]);
  });

  it('per-head hooks have width d_head', () => {
    expect(details(`interventions: [{ kind: ablate, hook: blocks.0.attn.hook_z, directions: ${W32} }]\n`)).toEqual([
      expect.stringMatching(/^interventions\.0\.directions: .*width 32 .*but hook blocks\.0\.attn\.hook_z has width 8;/),
    ]);
  });
});
