import { describe, expect, it } from 'vitest';
import { recipeJsonSchema } from '../../src/recipe/index.ts';

type Json = Record<string, any>;

/** Every object-typed node of a JSON Schema, with its dotted location, through oneOf/items. */
function objects(node: Json, at = ''): Array<[string, Json]> {
  const found: Array<[string, Json]> = node.properties ? [[at, node]] : [];
  for (const [key, child] of Object.entries<Json>(node.properties ?? {})) found.push(...objects(child, at ? `${at}.${key}` : key));
  for (const [i, child] of (node.oneOf ?? []).entries()) found.push(...objects(child, `${at}|${i}`));
  if (node.items && !Array.isArray(node.items)) found.push(...objects(node.items, `${at}[]`));
  return found;
}

describe('recipe JSON Schema', () => {
  const whole = recipeJsonSchema() as Json;
  // job: edit and job: sae recipes have schemas of their own; every other recipe is a training recipe.
  const schema = whole.else.else as Json;

  it('describes the edit and sae jobs by their own schemas, chosen by job', () => {
    expect(whole.if).toEqual({ properties: { job: { const: 'edit' } }, required: ['job'] });
    expect(Object.keys(whole.then.properties)).toEqual(['job', 'run', 'backend', 'model', 'edit']);
    expect(whole.else.if).toEqual({ properties: { job: { const: 'sae' } }, required: ['job'] });
    expect(Object.keys(whole.else.then.properties)).toEqual(['job', 'run', 'backend', 'model', 'sae', 'tracking']);
    expect(whole.then.properties.edit.properties.rho.description).toMatch(/curvature mass/);
    expect(whole.else.then.properties.sae.properties.k.default).toBe(16);
  });

  it('is a titled draft-07 schema for the whole recipe', () => {
    expect(whole.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(whole.title).toBe('bonsai recipe');
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(['run', 'backend', 'job', 'model', 'data', 'trainer', 'gradients', 'interventions', 'freeze', 'lora', 'probes', 'rewards', 'evals', 'checkpoint', 'memory', 'tracking', 'sample', 'ray', 'sweep']);
    expect(schema.required).toEqual(['model']);
    // A recipe has a trainer (and then data), or names a job that runs none.
    expect(schema.anyOf).toEqual([{ required: ['trainer'] }, { required: ['job'], properties: { job: { enum: ['probe'] } } }]);
    expect(schema.dependencies).toEqual({ trainer: ['data'] });
    expect(schema.additionalProperties).toBe(false);
  });

  it('describes the input side: defaulted fields are optional and show their defaults', () => {
    const sft = schema.properties.trainer.oneOf[0];
    expect(sft.required).toEqual(['kind', 'steps', 'batch_size', 'optimizer']);
    expect(sft.properties.grad_accum).toMatchObject({ type: 'integer', exclusiveMinimum: 0, default: 1 });
    expect(sft.properties.optimizer.properties.betas.default).toEqual([0.9, 0.999]);
    // A name, or { kind, threads }.
    const kinds = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
    expect(schema.properties.backend).toMatchObject({ default: 'auto', anyOf: [{ enum: kinds }, { type: 'object', properties: { kind: { enum: kinds, default: 'auto' }, threads: { type: 'integer' } } }] });
    expect(schema.properties.run.properties.name).not.toHaveProperty('default');
  });

  it('lists each gradient kind as a strict alternative', () => {
    const clip = schema.properties.gradients.items.oneOf[0];
    expect(clip).toMatchObject({ properties: { kind: { const: 'clip' } }, required: ['kind', 'max_norm'], additionalProperties: false });
  });

  it('gives every field help text, and no integer the safe-range noise', () => {
    const undescribed = [...objects(schema), ...objects(whole.then), ...objects(whole.else.then)].flatMap(([at, obj]) =>
      Object.entries<Json>(obj.properties).filter(([, p]) => !p.description).map(([key]) => `${at}.${key}`),
    );
    expect(objects(schema).length).toBeGreaterThan(15);
    expect(undescribed).toEqual([]);
    expect(JSON.stringify(whole)).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(schema.properties.data.properties.train.properties.path.description).toMatch(/current working directory/);
  });

  it('survives a JSON round trip, so it can be written to a file as is', () => {
    expect(JSON.parse(JSON.stringify(whole))).toEqual(whole);
  });
});
