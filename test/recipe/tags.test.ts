import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.ts';
import { errorLines, VALID } from './helpers.ts';

const REFUSED = 'is refused: a recipe is data, so tags that could execute code are refused (only core YAML tags are allowed)';

describe('YAML tags', () => {
  it('refuses code-executing and custom tags, each at its field', () => {
    const text = `run:
  name: !!js/function "function () { return 1 }"
  seed: !custom 3
backend: !!python/object:os.system
  cmd: ls
gradients:
  - !!binary aGk=
`;
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      `r.yaml:2:3: run.name: tag !!js/function ${REFUSED}`,
      `r.yaml:3:3: run.seed: tag !custom ${REFUSED}`,
      `r.yaml:4:1: backend: tag !!python/object:os.system ${REFUSED}`,
      `r.yaml:7:14: gradients.0: tag !!binary ${REFUSED}`,
    ]);
  });

  it('allows core YAML tags, anchors and aliases', () => {
    const text = `run: { name: !!str 42, seed: !!int "3" }\nsample: { prompt: &p hello }\ntracking: { experiment: *p }\n${VALID}`;
    const r = parseRecipe(text, 'r.yaml');
    expect(r.run).toMatchObject({ name: '42', seed: 3 });
    expect(r.tracking.experiment).toBe('hello');
  });

  it('stops an alias bomb with a clean error', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');
    expect(errorLines(() => parseRecipe(bomb, 'r.yaml'))).toEqual(['r.yaml: aliases expand past the limit (100); is this an alias bomb?']);
  });
});
