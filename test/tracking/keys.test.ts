import { describe, expect, it } from 'vitest';
import { flattenParams, isValidKey, pythonFloatRepr, sanitizeKey, truncateValue } from '../../src/tracking/index.ts';

describe('MLflow keys', () => {
  it('accepts what validation.py accepts', () => {
    for (const k of ['loss', 'rewards/probe/mean', 'a.b-c d_e', 'ключ', 'x'.repeat(250)]) expect(isValidKey(k)).toBe(true);
    for (const k of ['', 'a..b', '/abs', 'a//b', 'a/', './a', 'a@b', 'x'.repeat(251)]) expect(isValidKey(k)).toBe(false);
  });

  it('sanitises to a valid key and leaves valid keys alone', () => {
    expect(sanitizeKey('loss')).toBe('loss');
    expect(sanitizeKey('loss@train!')).toBe('loss_train_');
    expect(sanitizeKey('/leading')).toBe('leading');
    expect(sanitizeKey('a..b')).toBe('a__b');
    expect(sanitizeKey('a//b/')).toBe('a/b');
    expect(sanitizeKey('')).toBe('_');
    expect(sanitizeKey('x'.repeat(300))).toHaveLength(250);
    for (const k of ['a@b', '../..', '/', '.', 'a/./b', 'é?']) expect(isValidKey(sanitizeKey(k))).toBe(true);
  });
});

describe('pythonFloatRepr (what file_store writes for a metric value)', () => {
  it.each([
    [2, '2.0'], [0.5, '0.5'], [-1.25, '-1.25'], [0, '0.0'], [-0, '-0.0'],
    [1e-5, '1e-05'], [0.0001, '0.0001'], [1.5e-7, '1.5e-07'], [1e16, '1e+16'], [1e15, '1000000000000000.0'],
    [123456789.125, '123456789.125'], [0.1 + 0.2, '0.30000000000000004'], [1.2345678901234568e20, '1.2345678901234568e+20'],
    [5e-324, '5e-324'], [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'],
  ])('%d → %s', (x, text) => expect(pythonFloatRepr(x)).toBe(text));
});

describe('flattenParams', () => {
  it('joins nested keys with dots and arrays by index', () => {
    expect(flattenParams({ trainer: { lr: 3e-4, betas: [0.9, 0.95], kind: 'sft' }, on: true, none: null, skip: undefined })).toEqual({
      'trainer.lr': '0.0003', 'trainer.betas.0': '0.9', 'trainer.betas.1': '0.95', 'trainer.kind': 'sft', on: 'true', none: 'null',
    });
  });

  it('records empty containers, applies a prefix, and truncates long values visibly', () => {
    const out = flattenParams({ probes: [], extra: {}, text: 'y'.repeat(1000) }, 'recipe');
    expect(out['recipe.probes']).toBe('[]');
    expect(out['recipe.extra']).toBe('{}');
    expect(out['recipe.text']).toHaveLength(500);
    expect(out['recipe.text']).toMatch(/\[truncated\]$/);
    expect(truncateValue('short')).toBe('short');
  });
});
