import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { recipeSchema } from '../../src/recipe/index.ts';
import { defaultOf, keysAt, schemaAt } from '../../src/recipe/walk.ts';

// Two kinds, as the gradients list will have once project_out lands.
const clip = z.strictObject({ kind: z.literal('clip'), max_norm: z.number() });
const project = z.strictObject({ kind: z.literal('project_out'), directions: z.string() });
const list = z.object({ gradients: z.array(z.discriminatedUnion('kind', [clip, project])).default([]) });

describe('schema walk', () => {
  it('follows keys, list items and tuple items', () => {
    expect(schemaAt(recipeSchema, ['trainer', 'optimizer', 'betas', 1], {}).ok).toBe(true);
    expect(schemaAt(recipeSchema, ['gradients', 0, 'max_norm'], {}).ok).toBe(true);
    expect(schemaAt(recipeSchema, ['trainer', 'optimizer', 'betas', 2], {})).toMatchObject({ ok: false, segment: 2 });
  });

  it('picks the union member named by the data, or offers every member when none is', () => {
    expect(keysAt(list.shape.gradients.unwrap().element, { kind: 'project_out' })).toEqual(['kind', 'directions']);
    expect(keysAt(list.shape.gradients.unwrap().element, { kind: 'nope' })).toEqual(['kind', 'max_norm', 'directions']);
    const data = { gradients: [{ kind: 'clip' }] };
    expect(schemaAt(list, ['gradients', 0, 'directions'], data)).toEqual({ ok: false, at: ['gradients', 0], segment: 'directions', keys: ['kind', 'max_norm'] });
  });

  it('gives fresh copies of defaults', () => {
    const step = schemaAt(recipeSchema, ['trainer', 'optimizer', 'betas'], {});
    const a = step.ok ? defaultOf(step.schema) : undefined;
    expect(a).toEqual([0.9, 0.999]);
    (a as number[])[0] = 0;
    expect(step.ok && defaultOf(step.schema)).toEqual([0.9, 0.999]);
  });
});
