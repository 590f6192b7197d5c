// Checks of the reward kinds, run by recipe validation before anything is built.
import { describe, expect, it } from 'vitest';
import { parseAnyRecipe } from '../../src/recipe/index.ts';
import { errorLines } from '../recipe/helpers.ts';

const RL = `model:
  init:
    config: { d_model: 32, n_layers: 2, n_heads: 4, n_ctx: 64 }
data:
  train: { format: jsonl, path: test/fixtures/recipes/tiny.jsonl }
trainer:
  kind: rl
  steps: 2
  batch_size: 2
  optimizer: { kind: adamw, lr: 1.0e-3 }
`;
const details = (extra: string) => errorLines(() => parseAnyRecipe(`${RL}${extra}`, 'r.yaml')).map((l) => l.replace(/^r\.yaml:\d+:\d+: /, ''));

describe('reward kinds', () => {
  it('regex: the pattern must compile', () => {
    expect(details('rewards: [{ name: r, kind: regex, pattern: "(unclosed" }]\n')).toEqual([
      expect.stringMatching(/^rewards\.0\.pattern: not a valid JavaScript regular expression: /),
    ]);
  });

  it('probe: the probe must be in probes', () => {
    expect(details('rewards: [{ name: r, kind: probe, probe: missing }]\n')).toEqual(['rewards.0.probe: no probe named "missing" in probes (probes: none)']);
  });

  it('an rl trainer needs a reward', () => {
    expect(details('')).toEqual(['rewards: an rl trainer needs at least one reward (e.g. { name: correct, kind: exact_match })']);
  });

  it('every kind that is well formed passes', () => {
    expect(() => parseAnyRecipe(`${RL}rewards: [{ name: a, kind: exact_match }, { name: b, kind: regex, pattern: "^4" }, { name: c, kind: length, target: 3 }]\n`, 'r.yaml')).not.toThrow();
  });
});
