import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../src/trainer/index.ts';
import { MemoryTracker, tinyRecipeWithGradients } from '../helpers/metrics.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('gradient surgery in a run', () => {
  it('runs observe, project_out and pcgrad from the recipe and logs their statistics', async () => {
    const dir = tempDir();
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'zzzz qqqq zzzz qqqq '.repeat(40));
    const ref = `{ format: text, path: ${other} }`;
    const tracker = new MemoryTracker();
    const recipe = tinyRecipeWithGradients(dir, `gradients:
  - { kind: observe, directions: [ { name: other, data: ${ref} } ], every: 2 }
  - { kind: project_out, unwanted: ${ref}, top_k: 2, batches: 3, every: 2, params: "blocks.*" }
  - { kind: pcgrad, objectives: [ { name: retain, data: ${ref}, weight: 0.5 } ] }
  - { kind: clip, max_norm: 1.0 }`, { steps: 3 });
    const r = await train(recipe, { tracker });
    expect(r.step).toBe(3);
    const cos = tracker.values('gradients/project_out/cos');
    expect(cos).toHaveLength(3);
    expect(cos.every((c) => c > 0 && c <= 1)).toBe(true);
    expect(tracker.values('gradients/project_out/refreshed')).toEqual([1, 0, 1]);
    expect(tracker.values('gradients/project_out/dims')[0]).toBe(2);
    expect(tracker.values('gradients/observe/other/cos')).toHaveLength(3);
    expect(tracker.values('gradients/pcgrad/cos_task_retain')).toHaveLength(3);
  });

  it('project_out needs exactly one source of U', () => {
    expect(() => tinyRecipeWithGradients(tempDir(), 'gradients: [ { kind: project_out } ]')).toThrow(/exactly one of "unwanted"/);
  });
});
