import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { train } from '../../src/trainer/train.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

describe('train (a whole run)', () => {
  it("logs params, metrics, tags and the resolved recipe in MLflow's layout, and ends FINISHED", async () => {
    const dir = tempDir();
    const s = await train(tinyRecipe(dir, { steps: 5 }), { recipeFile: 'tiny.yaml' });
    const mlruns = join(dir, 'mlruns');
    const exp = readdirSync(mlruns).find((d) => d !== '0' && /^\d+$/.test(d))!;
    expect(parse(readFileSync(join(mlruns, exp, 'meta.yaml'), 'utf8')).name).toBe('test');
    const run = join(mlruns, exp, s.runId);
    const meta = parse(readFileSync(join(run, 'meta.yaml'), 'utf8'));
    expect(meta.status).toBe(3);
    expect(meta.run_name).toBe('tiny');
    expect(readFileSync(join(run, 'params', 'trainer.optimizer.lr'), 'utf8')).toBe('0.01');
    expect(readFileSync(join(run, 'params', 'gradients.0.kind'), 'utf8')).toBe('clip');
    expect(readFileSync(join(run, 'tags', 'bonsai.backend'), 'utf8')).toBe('cpu');
    expect(readFileSync(join(run, 'tags', 'bonsai.recipe'), 'utf8')).toBe('tiny.yaml');
    expect(readFileSync(join(run, 'tags', 'bonsai.backend.tried'), 'utf8')).toBe('cpu: ok');
    const loss = readFileSync(join(run, 'metrics', 'train', 'loss'), 'utf8').trim().split('\n');
    expect(loss.map((l) => l.split(' ')[2])).toEqual(['1', '2', '3', '4', '5']);
    expect(loss[4]!.split(' ')[1]).toBe(String(s.finalLoss));
    expect(existsSync(join(run, 'metrics', 'eval', 'loss'))).toBe(true);
    expect(existsSync(join(run, 'metrics', 'gradients', 'clip', 'norm'))).toBe(true);
    expect(readFileSync(join(run, 'artifacts', 'recipe.resolved.yaml'), 'utf8')).toMatch(/max_norm: 1/);
    expect(existsSync(join(run, 'artifacts', 'checkpoint', 'model.safetensors'))).toBe(true);
  });

  it('leaves no tensors behind: the count after a run equals the count before', async () => {
    const dir = tempDir();
    await train(tinyRecipe(dir, { steps: 1 })); // first run initialises the backend
    const before = tf.memory().numTensors;
    await train(tinyRecipe(tempDir(), { steps: 4, every: 2 }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('closes the run FAILED when training fails, and rethrows', async () => {
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 3, overrides: ['trainer.optimizer.lr=1e30', 'gradients=[]'] });
    await expect(train(recipe)).rejects.toThrow(/the loss is (NaN|Infinity)/);
    const mlruns = join(dir, 'mlruns');
    const exp = readdirSync(mlruns).find((d) => d !== '0' && /^\d+$/.test(d))!;
    const run = readdirSync(join(mlruns, exp)).find((d) => /^[0-9a-f]{32}$/.test(d))!;
    expect(parse(readFileSync(join(mlruns, exp, run, 'meta.yaml'), 'utf8')).status).toBe(4);
  });
});
