/**
 * End to end: `bonsai sweep` of the tiny recipe, each point a real `bonsai train` process,
 * read back from MLflow's file layout as `mlflow ui` would (meta.yaml, tags/ files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai } from '../../helpers/cli.ts';
import { tempDir, writeTinyRecipe } from '../../helpers/recipes.ts';
import { storedRuns, type StoredRun } from './stored-runs.ts';

describe('bonsai sweep, locally', () => {
  it('two values give a parent and two child runs nested under it; status reads them; a re-run skips them', () => {
    const dir = tempDir();
    const file = writeTinyRecipe(dir, { steps: 3 });
    const args = ['sweep', file, '--grid', 'trainer.optimizer.lr=1e-2,3e-3'];
    const r = bonsai(args);
    expect(r.stderr).not.toMatch(/error|internal/);
    expect(r.code).toBe(0);

    const runs = storedRuns(join(dir, 'mlruns'));
    expect(runs).toHaveLength(3);
    const parent = runs.find((x) => x.tags['bonsai.sweep.role'] === 'parent')!;
    const children = runs.filter((x) => x !== parent).sort((a, b) => Number(a.tags['bonsai.sweep.index']) - Number(b.tags['bonsai.sweep.index']));
    expect(parent.meta).toMatchObject({ run_name: 'tiny-sweep', status: 3 }); // FINISHED
    expect(parent.meta.end_time).toEqual(expect.any(Number));
    const id = parent.tags['bonsai.sweep.id']!;
    for (const [i, c] of children.entries()) {
      expect(c.tags['mlflow.parentRunId']).toBe(parent.id);
      expect(c.meta.status).toBe(3);
      expect(c.tags['bonsai.sweep.id']).toBe(id);
      expect(c.tags['sweep.trainer.optimizer.lr']).toBe(['0.01', '0.003'][i]);
      expect(JSON.parse(c.tags['bonsai.sweep.point']!)).toEqual({ 'trainer.optimizer.lr': [1e-2, 3e-3][i] });
      expect(c.meta.run_name).toBe(`tiny-lr=${['0.01', '0.003'][i]}`);
    }
    // Each point trained with its own value, into its own folder.
    const params = (c: StoredRun) => readFileSync(join(dir, 'mlruns', String(c.meta.experiment_id), c.id, 'params', 'trainer.optimizer.lr'), 'utf8');
    expect(children.map(params)).toEqual(['0.01', '0.003']);
    expect(readdirSync(join(dir, 'out', `sweep-${id}`)).sort()).toEqual(['0-lr=0.01', '1-lr=0.003']);
    expect(r.stdout).toMatch(new RegExp(`sweep ${id} \\(parent run ${parent.id}, "tiny-sweep", FINISHED\\): 2/2 finished`));

    const byRecipe = bonsai(['sweep', 'status', file, '--grid', 'trainer.optimizer.lr=1e-2,3e-3']);
    expect(byRecipe.code).toBe(0);
    expect(byRecipe.stdout).toMatch(/^#\s+POINT\s+STATUS\s+RUN\s+TRIES\s+TRAIN LOSS\s+EVAL LOSS$/m);
    expect(byRecipe.stdout).toMatch(new RegExp(`^0  lr=0\\.01 +FINISHED  ${children[0]!.id.slice(0, 8)}  1 +\\d\\.\\d+ +\\d\\.\\d+$`, 'm'));
    const byId = bonsai(['sweep', 'status', id.slice(0, 6), '--store', join(dir, 'mlruns')]);
    expect(byId.stdout).toBe(byRecipe.stdout);

    const again = bonsai(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`[0 lr=0.01] skipped (finished in run ${children[0]!.id})`);
    expect(again.stdout).toContain(`[1 lr=0.003] skipped (finished in run ${children[1]!.id})`);
    expect(again.stdout).toContain(`parent run ${parent.id}`);
    expect(storedRuns(join(dir, 'mlruns'))).toHaveLength(3);
  });
});
