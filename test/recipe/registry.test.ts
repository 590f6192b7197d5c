import { describe, expect, it } from 'vitest';
import { gradientBuilders } from '../../src/gradients/builders.ts';
import { interventionBuilders } from '../../src/gradients/intervention-build.ts';
import { gradientKinds } from '../../src/gradients/kinds.ts';
import { componentRegistry } from '../../src/recipe/components.ts';
import type { Builders } from '../../src/registry/kinds.ts';
import { rewardBuilders } from '../../src/rewards/build.ts';
import { rlLossBuilders } from '../../src/trainer/rl-loss.ts';
import { errorLines, VALID } from './helpers.ts';
import { parseAnyRecipe } from '../../src/recipe/index.ts';

describe('component registry', () => {
  it('names each kind by its own `kind` literal, for every concept chosen by a kind field', () => {
    const withKindField = ['trainer', 'optimizer', 'rl loss', 'reward', 'probe kind', 'gradient transform', 'intervention'] as const;
    for (const concept of withKindField) {
      for (const [name, spec] of Object.entries(componentRegistry[concept])) {
        const shape = (spec as { schema: { shape: { kind: { value: string } } } }).schema.shape;
        expect(shape.kind.value, `${concept} ${name}`).toBe(name);
      }
    }
  });

  it('has a builder for every kind, and no builder without a kind', () => {
    const pairs: Array<[object, object]> = [
      [componentRegistry['gradient transform'], gradientBuilders],
      [componentRegistry.reward, rewardBuilders],
      [componentRegistry.intervention, interventionBuilders],
      [componentRegistry['rl loss'], rlLossBuilders],
    ];
    for (const [kinds, builders] of pairs) expect(Object.keys(builders).sort()).toEqual(Object.keys(kinds).sort());
  });

  it('makes a kind without a builder a type error', () => {
    // @ts-expect-error: observe has no builder, so this table does not compile (tsc checks the tests)
    const missing: Builders<typeof gradientKinds, [], number> = { clip: () => 1, project_out: () => 1, pcgrad: () => 1 };
    expect(Object.keys(missing)).toHaveLength(3);
  });

  it('runs the checks of every section that passed the schema, even when another did not', () => {
    const text = `${VALID}run: { seed: -1 }\nfreeze: [blocks.5.*]\n`;
    expect(errorLines(() => parseAnyRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:11:8: run.seed: must be >= 0, got -1',
      'r.yaml:12:10: freeze.0: "blocks.5.*" matches no parameter; did you mean "blocks.0.*", "blocks.1.*", "blocks.*"? ("*" matches anything, dots included)',
    ]);
  });

  it('checks the model config from a checkpoint directory (its config.json), without loading weights', () => {
    const text = VALID.replace(/config: .*/, 'checkpoint: test/fixtures/recipes/checkpoint') + 'probes: [{ name: p, hook: blocks.2.hook_resid_post }]\n';
    expect(errorLines(() => parseAnyRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:11:21: probes.0.hook: unknown hook point "blocks.2.hook_resid_post": the model has 2 blocks (blocks.0 … blocks.1)',
    ]);
  });

  it('refuses a tracking URI no tracker kind takes, before the run', () => {
    expect(errorLines(() => parseAnyRecipe(`${VALID}tracking: { uri: "sqlite:///x.db" }\n`, 'r.yaml'))).toEqual([
      expect.stringMatching(/^r\.yaml:11:13: tracking\.uri: tracking uri scheme "sqlite:" is not supported/),
    ]);
  });
});
