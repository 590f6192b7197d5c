/** `bonsai train --resume` continues the checkpoint's MLflow run, or says why it opens a new one. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runAttempts } from '../../src/distributed/sweep/status.ts';
import { LocalRunStore } from '../../src/tracking/store/index.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

/** The run folders of experiment `test` (id 1) in a store. */
const runDirs = (mlruns: string) => readdirSync(join(mlruns, '1'), { withFileTypes: true }).filter((e) => e.isDirectory() && /^[0-9a-f]{32}$/.test(e.name)).map((e) => join(mlruns, '1', e.name));
const meta = (runDir: string) => YAML.parse(readFileSync(join(runDir, 'meta.yaml'), 'utf8'), { version: '1.1' }) as Record<string, unknown>;
const tag = (runDir: string, key: string) => (existsSync(join(runDir, 'tags', key)) ? readFileSync(join(runDir, 'tags', key), 'utf8') : undefined);
const steps = (runDir: string, key: string) => readFileSync(join(runDir, 'metrics', key), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[2]));

describe('--resume and the tracking run', () => {
  it('continues the same MLflow run: one run, one curve, FINISHED, resumes counted; a changed param is tagged, not re-logged', async () => {
    const dir = tempDir();
    const mlruns = join(dir, 'mlruns');
    const first = await train(tinyRecipe(dir, { steps: 4 }), { stopAfter: 2 });
    expect(first.interrupted).toBe(true);
    const [runDir] = runDirs(mlruns);
    expect(meta(runDir!).status).toBe(5); // KILLED

    const lines: string[] = [];
    const second = await train(tinyRecipe(dir, { steps: 4 }), { resume: true, stopAfter: 3, onLog: (l) => lines.push(l) });
    expect(second.runId).toBe(first.runId);
    expect(lines).toContain(`tracking: continuing run ${first.runId} (resume 1)`);

    // The user asks for more steps on the last resume: the param keeps its first value.
    const third = await train(tinyRecipe(dir, { steps: 5 }), { resume: true, onLog: (l) => lines.push(l) });
    expect(third.runId).toBe(first.runId);
    expect(third.step).toBe(5);
    expect(runDirs(mlruns)).toEqual([runDir]);
    expect(meta(runDir!)).toMatchObject({ status: 3, lifecycle_stage: 'active' });
    expect(typeof meta(runDir!).end_time).toBe('number');
    expect(steps(runDir!, 'train/loss')).toEqual([1, 2, 3, 4, 5]);
    expect(tag(runDir!, 'bonsai.resumed')).toBe('2');
    expect(readFileSync(join(runDir!, 'params', 'trainer.steps'), 'utf8')).toBe('4');
    expect(tag(runDir!, 'bonsai.resumed.changed_params')).toBe('trainer.steps: 4 -> 5');
    expect(lines.some((l) => /params keep their first values .*trainer\.steps: 4 -> 5/.test(l))).toBe(true);
    // The first recipe stays at the top of the artifacts; each resume's is kept beside it.
    expect(readFileSync(join(runDir!, 'artifacts', 'recipe.resolved.yaml'), 'utf8')).toMatch(/steps: 4/);
    expect(readFileSync(join(runDir!, 'artifacts', 'resumes', '2', 'recipe.resolved.yaml'), 'utf8')).toMatch(/steps: 5/);
    expect(existsSync(join(runDir!, 'artifacts', 'checkpoint'))).toBe(true);
    // A sweep counts this point's tries from the one run: the start and two resumes.
    const [summary] = (await new LocalRunStore(mlruns).list()).runs;
    expect(runAttempts(summary!)).toBe(3);
  });

  it('opens a new run, saying why, when the checkpoint\'s run was deleted or is in another store', async () => {
    const dir = tempDir();
    const mlruns = join(dir, 'mlruns');
    const first = await train(tinyRecipe(dir, { steps: 4 }), { stopAfter: 1 });
    const [runDir] = runDirs(mlruns);
    writeFileSync(join(runDir!, 'meta.yaml'), YAML.stringify({ ...meta(runDir!), lifecycle_stage: 'deleted' }));

    const lines: string[] = [];
    const second = await train(tinyRecipe(dir, { steps: 4 }), { resume: true, stopAfter: 2, onLog: (l) => lines.push(l) });
    expect(second.runId).not.toBe(first.runId);
    expect(lines).toContain(`tracking: cannot continue tracking run ${first.runId}: it was deleted; logging the resumed training to a new run`);
    const newDir = join(mlruns, '1', second.runId);
    expect(tag(newDir, 'bonsai.resumed')).toBe('1');
    expect(tag(newDir, 'bonsai.resumed.from_run')).toBe(first.runId);
    expect(steps(newDir, 'train/loss')).toEqual([2]);
    // A sweep counts the new run as one try (its start is not a resume into itself).
    const listed = (await new LocalRunStore(mlruns).list()).runs;
    expect(listed.map((r) => [r.id, runAttempts(r)])).toEqual([[second.runId, 1]]); // the deleted run is not listed

    // Another tracking uri: the run is not there, so a new run there.
    const elsewhere = join(dir, 'other-mlruns');
    const third = await train(tinyRecipe(dir, { steps: 4, overrides: [`tracking.uri=${elsewhere}`] }), { resume: true, onLog: (l) => lines.push(l) });
    expect(third.runId).not.toBe(second.runId);
    expect(lines.some((l) => l.startsWith(`tracking: cannot continue tracking run ${second.runId}: it is not in the store ${elsewhere}`))).toBe(true);
    expect(meta(join(elsewhere, '1', third.runId)).status).toBe(3);
  });
});
