import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.ts';
import { closest, editDistance, suggestion } from '../../src/registry/suggest.ts';
import { errorLines, VALID } from './helpers.ts';

describe('unknown keys', () => {
  it('reports each unknown key at that key, with the nearest valid key', () => {
    const text = `${VALID}chekpoint: { every: 5 }\ntracking: { experimnt: x, urri: y }\n`;
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:11:1: chekpoint: unknown key; did you mean "checkpoint"?',
      'r.yaml:12:13: tracking.experimnt: unknown key; did you mean "experiment"?',
      'r.yaml:12:27: tracking.urri: unknown key; did you mean "uri"?',
    ]);
  });

  it('lists the valid keys when no key is close', () => {
    const text = VALID.replace('  steps: 10\n', '  steps: 10\n  banana: 1\n');
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:9:3: trainer.banana: unknown key; valid keys: kind, steps, batch_size, grad_accum, optimizer, schedule, eval, log_every, max_nonfinite_steps',
    ]);
  });

  it('suggests from the keys of the chosen kind, inside lists too', () => {
    const text = `${VALID}gradients:\n  - kind: clip\n    max_nrom: 1\n`;
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:12:5: gradients.0.max_norm: missing required field',
      'r.yaml:13:5: gradients.0.max_nrom: unknown key; did you mean "max_norm"?',
    ]);
  });

  it('suggests the nearest enum value and discriminator', () => {
    const text = VALID.replace('kind: sft', 'kind: stf').replace('model:', 'backend: tensorflow_gpu\nmodel:');
    expect(errorLines(() => parseRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:1:1: backend: expected one of auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu, got string "tensorflow_gpu"; did you mean "tensorflow-gpu"?',
      'r.yaml:8:3: trainer.kind: expected one of sft | rl, got string "stf"; did you mean "sft"?',
    ]);
  });
});

describe('did-you-mean', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('stpes', 'steps')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('only suggests keys close enough to be a typo', () => {
    expect(closest('optimzer', ['optimizer', 'schedule'])).toBe('optimizer');
    expect(closest('lr', ['lr', 'eps'])).toBe('lr');
    expect(closest('xyz', ['lr', 'eps'])).toBeUndefined();
    expect(closest('Batch-Size', ['batch_size'])).toBe('batch_size');
  });

  it('falls back to listing the choices', () => {
    expect(suggestion('zzz', ['a', 'b'])).toBe('valid keys: a, b');
    expect(suggestion('zzz', [])).toBe('nothing is allowed here');
  });
});
