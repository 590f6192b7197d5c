import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { trainArgs } from '../../../src/distributed/sweep/local.ts';
import { planSweep } from '../../../src/distributed/sweep/plan.ts';
import { loadRecipe } from '../../../src/recipe/index.ts';
import { train } from '../../../src/trainer/train.ts';
import { tempDir, writeTinyRecipe } from '../../helpers/recipes.ts';
import { storedRuns } from './stored-runs.ts';

afterEach(() => {
  delete process.env.BONSAI_PARENT_RUN_ID;
  delete process.env.BONSAI_RUN_TAGS;
});

describe("a point's bonsai train", () => {
  it('is nested by the environment, and resumes when an earlier attempt left a checkpoint in its out_dir', async () => {
    const dir = tempDir();
    const file = writeTinyRecipe(dir, { steps: 4, every: 1 });
    const point = planSweep(file, { grids: ['trainer.optimizer.lr=1e-2,3e-3'] }).points[0]!;
    expect(trainArgs(file, point)).toEqual({ args: ['train', file, ...point.trainSets.flatMap((s) => ['--set', s])], resumed: false });

    // An attempt stopped after step 2 (as Ctrl-C would), nested under a parent through the environment.
    process.env.BONSAI_PARENT_RUN_ID = 'f'.repeat(32);
    process.env.BONSAI_RUN_TAGS = JSON.stringify({ 'bonsai.sweep.point': point.key });
    const first = await train(loadRecipe(file, { overrides: point.trainSets }), { stopAfter: 2 });
    expect(first.interrupted).toBe(true);
    const run = storedRuns(join(dir, 'mlruns')).find((r) => r.id === first.runId)!;
    expect(run.tags['mlflow.parentRunId']).toBe('f'.repeat(32));
    expect(run.tags['bonsai.sweep.point']).toBe(point.key);

    const again = trainArgs(file, point);
    expect(again.resumed).toBe(true);
    expect(again.args.at(-1)).toBe('--resume');
  });
});
