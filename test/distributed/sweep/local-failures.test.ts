/** End to end: failing points, `--parallel`, and retrying what failed, in MLflow's file layout. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../../helpers/cli.ts';
import { tempDir, writeTinyRecipe } from '../../helpers/recipes.ts';
import { storedRuns } from './stored-runs.ts';

describe('bonsai sweep, locally, when a point fails', () => {
  it('a failing point does not stop the others; --parallel 2 runs both at once; a re-run retries only the failed one', () => {
    const dir = tempDir();
    const file = writeTinyRecipe(dir, { steps: 3 });
    // lr 1e30 makes the gradients non-finite: that run fails inside training, after its MLflow run opened.
    const args = ['sweep', file, '--grid', 'trainer.optimizer.lr=1e30,1e-2', '--set', 'gradients=[]', '--set', 'trainer.max_nonfinite_steps=1'];
    const r = bonsai([...args, '--parallel', '2']);
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const lines = r.stdout.split('\n');
    const firstEnd = lines.findIndex((l) => / (finished|FAILED \(exit \d+\)) in [\d.]+ s$/.test(l));
    expect(lines.slice(0, firstEnd).filter((l) => / start: bonsai train /.test(l))).toHaveLength(2);
    expect(r.stdout).toContain('[0 lr=1e+30] FAILED (exit 1)');
    expect(r.stdout).toMatch(/\[1 lr=0\.01\] finished in/);
    expect(r.stdout).toMatch(/point 0 \(lr=1e\+30\) failed \(exit 1\):\n.*NaN or infinite gradients/);

    const runs = storedRuns(join(dir, 'mlruns'));
    const parent = runs.find((x) => x.tags['bonsai.sweep.role'] === 'parent')!;
    expect(parent.meta.status).toBe(4); // FAILED: not every point finished
    const status = (lr: string) => runs.filter((x) => x.tags['sweep.trainer.optimizer.lr'] === lr).map((x) => x.meta.status);
    expect(status('1e+30')).toEqual([4]);
    expect(status('0.01')).toEqual([3]);

    const again = bonsai(args);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/\[1 lr=0\.01\] skipped \(finished in run [0-9a-f]{32}\)/);
    expect(again.stdout).not.toContain('[1 lr=0.01] start');
    expect(again.stdout).toMatch(/^0  lr=1e\+30 +FAILED +[0-9a-f]{8}  2 /m);
    expect(storedRuns(join(dir, 'mlruns'))).toHaveLength(4);
  });
});
