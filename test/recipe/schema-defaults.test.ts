import { describe, expect, expectTypeOf, it } from 'vitest';
import { loadRecipe, parseRecipe, recipeSchema, type ModelConfig, type Recipe } from '../../src/recipe/index.ts';
import { errorLines, VALID } from './helpers.ts';

const FIXTURES = 'test/fixtures/recipes';

describe('defaults', () => {
  it('fills every default into a minimal recipe', () => {
    expect(loadRecipe(`${FIXTURES}/minimal.yaml`)).toEqual({
      run: { name: 'minimal', seed: 0, out_dir: 'runs/minimal' },
      backend: 'auto',
      job: 'sft',
      model: {
        tokenizer: 'byte',
        init: {
          config: { d_model: 32, n_layers: 2, n_heads: 4, d_mlp: 128, n_ctx: 64, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02 },
        },
      },
      data: { train: { format: 'text', path: `${FIXTURES}/tiny.txt` }, eval_fraction: 0.05 },
      trainer: {
        kind: 'sft',
        steps: 10,
        batch_size: 2,
        grad_accum: 1,
        optimizer: { kind: 'adamw', lr: 3e-4, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
        schedule: { kind: 'cosine', warmup_steps: 0, min_lr_ratio: 0.1 },
        eval: { every: 0, batches: 8 },
        log_every: 10,
        max_nonfinite_steps: 5,
      },
      gradients: [],
      interventions: [],
      freeze: [],
      probes: [],
      rewards: [],
      checkpoint: { every: 0, keep: 3 },
      memory: { ce_chunk: 'auto', recompute: false },
      tracking: { uri: './mlruns', experiment: 'bonsai' },
    });
  });

  it('keeps every value a recipe sets', () => {
    const r = loadRecipe(`${FIXTURES}/full.yaml`);
    expect(r.run).toEqual({ name: 'full-run', seed: 7, out_dir: 'runs/elsewhere' });
    expect(r.model.init.config).toMatchObject({ vocab_size: 512, d_mlp: 100, tied_embeddings: false, layer_norm_eps: 1e-6 });
    expect(r.data).toMatchObject({ eval: { format: 'text' }, eval_fraction: 0.1, seq_len: 96 });
    expect(r.trainer.optimizer).toEqual({ kind: 'adamw', lr: 1e-3, betas: [0.8, 0.95], eps: 1e-6, weight_decay: 0.1 });
    expect(r.trainer.schedule).toEqual({ kind: 'linear', warmup_steps: 10, min_lr_ratio: 0 });
    expect(r.gradients).toEqual([{ kind: 'clip', max_norm: 1 }]);
    expect(r.sample).toEqual({ prompt: 'Once', max_new_tokens: 20, temperature: 0, top_k: 5, top_p: 0.9 });
  });

  it('names the run after the file, and puts out_dir under its name', () => {
    expect(parseRecipe(VALID, 'recipes/tiny-sft.yaml').run).toEqual({ name: 'tiny-sft', seed: 0, out_dir: 'runs/tiny-sft' });
    expect(parseRecipe(`run: { name: mine }\n${VALID}`, 'x.yaml').run.out_dir).toBe('runs/mine');
  });

  it('fills optional sections only when present', () => {
    const r = parseRecipe(`${VALID}sample: { prompt: hi }\n`, 'x.yaml');
    expect(r.sample).toEqual({ prompt: 'hi', max_new_tokens: 200, temperature: 0.8 });
    expect(parseRecipe(VALID, 'x.yaml').sample).toBeUndefined();
  });

  it('accepts a checkpoint directory instead of a config', () => {
    const text = VALID.replace(/config: .*/, `checkpoint: ${FIXTURES}/checkpoint`);
    expect(parseRecipe(text, 'x.yaml').model.init).toEqual({ checkpoint: `${FIXTURES}/checkpoint` });
  });

  it('refuses both config and checkpoint, or neither', () => {
    const both = VALID.replace(/(config: .*)/, `$1\n    checkpoint: ${FIXTURES}/checkpoint`);
    expect(errorLines(() => parseRecipe(both, 'x.yaml'))).toEqual([
      'x.yaml:2:3: model.init: needs exactly one of "config" (a fresh model), "checkpoint" (a saved one), "hf" (a Hugging Face directory of any family bonsai implements) or "hf_gpt2" (hf with the GPT-2 tokenizer)',
    ]);
    const neither = VALID.replace(/config: .*/, 'config:');
    expect(errorLines(() => parseRecipe(neither, 'x.yaml'))).toEqual(['x.yaml:3:5: model.init.config: expected mapping, got null (an empty value)']);
  });

  it('is the same schema the loader uses', () => {
    const data = { ...JSON.parse(JSON.stringify(loadRecipe(`${FIXTURES}/minimal.yaml`))), run: {} };
    expect(recipeSchema.parse(data).run.name).toBe('recipe');
  });

  it('types the resolved recipe with defaults as required', () => {
    expectTypeOf<Extract<Recipe['trainer'], { kind: 'sft' }>['grad_accum']>().toEqualTypeOf<number>();
    expectTypeOf<Recipe['run']['name']>().toEqualTypeOf<string>();
    expectTypeOf<ModelConfig['d_mlp']>().toEqualTypeOf<number>();
    expectTypeOf<ModelConfig['vocab_size']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Recipe['gradients'][number]['kind']>().toEqualTypeOf<'clip' | 'project_out' | 'pcgrad' | 'observe'>();
  });
});
