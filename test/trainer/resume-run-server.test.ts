/** `--resume` against a tracking server (the fake, on its own thread, enforcing specs/mlflow.md §1): the same server run goes on. */
import { afterEach, describe, expect, it } from 'vitest';
import { train } from '../../src/trainer/train.ts';
import { FakeMlflowThread } from '../fakes/mlflow-thread.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

let server: FakeMlflowThread | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('--resume with a tracking server', () => {
  it('continues the checkpoint\'s server run: KILLED, RUNNING, FINISHED; one curve; params sent once', async () => {
    server = await FakeMlflowThread.start();
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 4, overrides: [`tracking.uri=${server.url}`] });
    const first = await train(recipe, { stopAfter: 2 });
    const lines: string[] = [];
    const second = await train(recipe, { resume: true, onLog: (l) => lines.push(l) });
    expect(second.runId).toBe(first.runId);
    expect(lines).toContain(`tracking: continuing run ${first.runId} (resume 1)`);

    const snap = await server.snapshot();
    expect(snap.runs).toHaveLength(1);
    const run = snap.runs[0]!;
    expect(run.info.status).toBe('FINISHED');
    expect(run.statusHistory).toEqual(['KILLED', 'RUNNING', 'FINISHED']);
    expect(run.tags['bonsai.resumed']).toBe('1');
    expect(run.metrics.filter((m) => m.key === 'train/loss').map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(run.params['trainer.steps']).toBe('4');
    // Nothing refused: known params were not sent again with other values, nothing went to a deleted run.
    expect(snap.log.filter((l) => / 4\d\d$/.test(l) && !/get-by-name/.test(l))).toEqual([]);
    expect(snap.artifacts.some((a) => a.endsWith('/resumes/1/recipe.resolved.yaml'))).toBe(true);
    expect(snap.artifacts.some((a) => a.endsWith('/checkpoint/model.safetensors'))).toBe(true);
  });
});
