import { describe, expect, it } from 'vitest';
import { loadRecipe, parseAnyRecipe, parseRecipe } from '../../src/recipe/index.ts';
import { errorLines, VALID } from './helpers.ts';

const MODEL = `model:
  init:
    config: { d_model: 32, n_layers: 2, n_heads: 4, n_ctx: 64 }
`;
const PROBE = `probes:
  - { name: p, hook: blocks.1.hook_resid_post, train: { data: test/fixtures/recipes/tiny.jsonl } }
`;

describe('recipe jobs', () => {
  it('infers the job from trainer.kind when a recipe does not say', () => {
    expect(parseRecipe(VALID, 'r.yaml').job).toBe('sft');
  });

  it('takes a probe job with no trainer and no data section', () => {
    const r = parseAnyRecipe(`job: probe\n${MODEL}${PROBE}`, 'r.yaml');
    expect(r.job).toBe('probe');
    expect(r.trainer).toBeUndefined();
    expect(r.data).toBeUndefined();
  });

  it('refuses a trainer in a probe job, and a probe job without a probe to train', () => {
    expect(errorLines(() => parseAnyRecipe(`job: probe\n${VALID}`, 'r.yaml'))).toEqual([
      'r.yaml:1:1: probes: a probe job needs at least one probe with a "train" section (probes[].train.data)',
      'r.yaml:7:1: trainer: a probe job has no trainer section; remove it, or set job to one that trains (sft, rl)',
    ]);
    expect(errorLines(() => parseAnyRecipe(`job: probe\n${MODEL}`, 'r.yaml'))).toEqual([
      'r.yaml:1:1: probes: a probe job needs at least one probe with a "train" section (probes[].train.data)',
    ]);
  });

  it('asks for a trainer (or a job) when neither is given, and for the sections a training job needs', () => {
    expect(errorLines(() => parseAnyRecipe(MODEL, 'r.yaml'))).toEqual([
      'r.yaml:1:1: trainer: missing required field (or say what the recipe is for: job: sft | rl | probe)',
    ]);
    expect(errorLines(() => parseAnyRecipe(`job: rl\n${VALID}`, 'r.yaml'))).toEqual(['r.yaml:8:3: trainer.kind: job rl runs trainer kind rl, got sft']);
  });

  it('loadRecipe (training) refuses a probe job, naming the command that runs it', () => {
    expect(() => loadRecipe('recipes/hallucination/b_probe.yaml', { overrides: ['model.init.checkpoint=test/fixtures/recipes/checkpoint'] })).toThrow(
      /job: probe recipe \(it has no trainer\); run it with `bonsai probe train recipes\/hallucination\/b_probe\.yaml`/,
    );
  });
});
