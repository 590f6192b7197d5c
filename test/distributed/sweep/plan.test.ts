import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BonsaiErrors } from '../../../src/errors.ts';
import { loadRecipe } from '../../../src/recipe/index.ts';
import { planSweep, sweepId } from '../../../src/distributed/sweep/plan.ts';
import { inheritedRunContext } from '../../../src/tracking/run-env.ts';
import { tempDir, writeTinyRecipe } from '../../helpers/recipes.ts';

/** The error planSweep throws, as text. */
function planError(file: string, flags: Parameters<typeof planSweep>[1]): string {
  try {
    planSweep(file, flags);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('planSweep did not throw');
}

describe('planning a sweep', () => {
  it('gives every point its run name, its own out_dir and the --sets that train it', () => {
    const dir = tempDir();
    const file = writeTinyRecipe(dir);
    const plan = planSweep(file, { grids: ['trainer.optimizer.lr=1e-3,3e-4', 'run.seed=1,2'], sets: ['trainer.steps=3'] });
    expect(plan.points.map((p) => p.runName)).toEqual(['tiny-lr=0.001,seed=1', 'tiny-lr=0.001,seed=2', 'tiny-lr=0.0003,seed=1', 'tiny-lr=0.0003,seed=2']);
    expect(plan.name).toBe('tiny-sweep');
    expect(plan.id).toMatch(/^[0-9a-f]{12}$/);
    expect(plan.points[2]!.outDir).toBe(join(dir, 'out', `sweep-${plan.id}`, '2-lr=0.0003,seed=1'));
    expect(new Set(plan.points.map((p) => p.outDir)).size).toBe(4);
    expect(plan.points[2]!.trainSets).toEqual(['trainer.steps=3', 'trainer.optimizer.lr=0.0003', 'run.seed=1', 'run.name=tiny-lr=0.0003,seed=1', `run.out_dir=${plan.points[2]!.outDir}`]);
    // The point's recipe is exactly what its --sets say.
    const r = loadRecipe(file, { overrides: plan.points[2]!.trainSets });
    expect([r.trainer.optimizer.lr, r.run.seed, r.trainer.steps, r.run.name]).toEqual([3e-4, 1, 3, 'tiny-lr=0.0003,seed=1']);
  });

  it('the sweep id is stable, and changes with the base recipe or the points', () => {
    const file = writeTinyRecipe(tempDir());
    const a = planSweep(file, { grids: ['trainer.optimizer.lr=1e-3,3e-4'] });
    expect(planSweep(file, { grids: ['trainer.optimizer.lr=1e-3,3e-4'], parallel: 3 }).id).toBe(a.id);
    expect(planSweep(file, { grids: ['trainer.optimizer.lr=3e-4,1e-3'] }).id).toBe(a.id); // same points, other order
    expect(planSweep(file, { grids: ['trainer.optimizer.lr=1e-3,3e-4,1e-4'] }).id).not.toBe(a.id);
    expect(planSweep(file, { grids: ['trainer.optimizer.lr=1e-3,3e-4'], sets: ['trainer.steps=9'] }).id).not.toBe(a.id);
    expect(sweepId(a.base, a.points)).toBe(a.id);
  });

  it('a --grid path not in the recipe is refused with did-you-mean, before anything runs', () => {
    const dir = tempDir();
    const file = writeTinyRecipe(dir);
    const msg = planError(file, { grids: ['trainer.optimizer.lrr=1e-3,3e-4', 'trainer.stpes=1,2', 'run.name=a,b'] });
    expect(msg).toContain('sweep has 3 errors');
    expect(msg).toContain('--grid trainer.optimizer.lrr=1e-3,3e-4: trainer.optimizer.lrr: unknown key; did you mean "lr"?');
    expect(msg).toContain('--grid trainer.stpes=1,2: trainer.stpes: unknown key; did you mean "steps"?');
    expect(msg).toContain('run.name cannot be swept');
    expect(existsSync(join(dir, 'mlruns'))).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a value that fails validation is reported naming its point, every bad point at once', () => {
    const file = writeTinyRecipe(tempDir());
    let err: unknown;
    try {
      planSweep(file, { grids: ['trainer.optimizer.lr=1e-3,-1', 'trainer.batch_size=4,zero'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BonsaiErrors);
    const msg = (err as Error).message;
    expect(msg).toMatch(/: 3 of 4 sweep points are invalid/);
    expect(msg).toContain('point 1 (lr=0.001,batch_size=zero): --set trainer.batch_size=zero: trainer.batch_size: expected number, got string "zero"');
    expect(msg).toContain('point 2 (lr=-1,batch_size=4): --set trainer.optimizer.lr=-1: trainer.optimizer.lr: must be > 0, got -1');
  });

  it("the recipe's sweep: section is read, --grid replaces a path's values, and its bad paths are located at their line", () => {
    const dir = tempDir();
    const file = writeTinyRecipe(dir, { extra: 'sweep:\n  grid: { trainer.optimizer.lr: [1.0e-3, 3.0e-4], run.seed: [0] }\n  random: { samples: 2, seed: 5, space: { trainer.optimizer.weight_decay: { uniform: [0.0, 0.2] } } }\n  parallel: 2\n' });
    const plan = planSweep(file, { grids: ['run.seed=4,5'] });
    expect(plan.spec.parallel).toBe(2);
    expect(plan.points).toHaveLength(8);
    expect(plan.points.map((p) => p.values['run.seed'])).toEqual([4, 4, 5, 5, 4, 4, 5, 5]);
    expect(planSweep(file, { samples: 3, seed: 9 }).points).toHaveLength(6);

    const bad = writeTinyRecipe(tempDir(), { extra: 'sweep:\n  grid: { trainer.optimiser.lr: [1.0e-3] }\n' });
    expect(planError(bad, {})).toMatch(/tiny\.yaml:\d+:\d+: sweep\.grid\.trainer\.optimiser\.lr: trainer\.optimiser: unknown key; did you mean "optimizer"\?/);
  });

  it('says so when there is nothing to sweep, or --random has no space', () => {
    const file = writeTinyRecipe(tempDir());
    expect(planError(file, {})).toMatch(/nothing to sweep/);
    expect(planError(file, { grids: ['run.seed=1'], samples: 4 })).toMatch(/--random\/--seed need a sweep.random.space/);
  });
});

describe('the environment a point inherits', () => {
  it('reads the parent run id and tags, and refuses tags that are not a JSON object of strings', () => {
    expect(inheritedRunContext({})).toEqual({ parentRunId: undefined, tags: {} });
    expect(inheritedRunContext({ BONSAI_PARENT_RUN_ID: 'abc', BONSAI_RUN_TAGS: '{"a":"1"}' })).toEqual({ parentRunId: 'abc', tags: { a: '1' } });
    expect(() => inheritedRunContext({ BONSAI_RUN_TAGS: '{"a":1}' })).toThrow(/BONSAI_RUN_TAGS must be a JSON object of string values/);
    expect(() => inheritedRunContext({ BONSAI_RUN_TAGS: 'nope' })).toThrow(/BONSAI_RUN_TAGS/);
  });
});
