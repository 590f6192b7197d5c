import { afterEach, describe, expect, it, vi } from 'vitest';
import { train } from '../../src/trainer/train.ts';
import { FakeMlflowThread } from '../fakes/mlflow-thread.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

let server: FakeMlflowThread | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await server?.close();
});

describe('train() with a tracking server', () => {
  it('MLFLOW_TRACKING_URI applies when the recipe leaves tracking.uri at its default', async () => {
    server = await FakeMlflowThread.start();
    vi.stubEnv('MLFLOW_TRACKING_URI', server.url);
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 3, overrides: ['tracking.uri=./mlruns'] });
    const s = await train(recipe, { recipeFile: 'tiny.yaml' });
    const snap = await server.snapshot();
    const run = snap.runs.find((r) => r.info.run_id === s.runId)!;
    expect(run.info.status).toBe('FINISHED');
    expect(run.tags['bonsai.recipe']).toBe('tiny.yaml');
    expect(run.tags['mlflow.source.type']).toBe('LOCAL');
    expect(run.metrics.filter((m) => m.key === 'train/loss').map((m) => m.step)).toEqual([1, 2, 3]);
    expect(snap.artifacts.some((a) => a.endsWith('/checkpoint/model.safetensors'))).toBe(true);
  });
});
