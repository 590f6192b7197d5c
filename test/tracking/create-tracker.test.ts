import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { createTracker, LocalMlflowTracker, NullTracker, resolveTrackingUri } from '../../src/tracking/index.ts';

describe('createTracker', () => {
  it('"none" gives a NullTracker that has every method and writes nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bonsai-none-'));
    const t = createTracker('none');
    expect(t).toBeInstanceOf(NullTracker);
    const run = await t.startRun({ experiment: 'e', runName: 'r' });
    expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
    await t.logParams({ a: '1' });
    t.logMetrics(0, { loss: 1 });
    await t.setTags({ a: 'b' });
    await t.logArtifact(join(cwd, 'does-not-exist'));
    await t.flush();
    await t.endRun('FINISHED');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a path or file: URI gives the local MLflow store', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bonsai-uri-')), 'ml runs');
    const byPath = createTracker(dir);
    expect(byPath).toBeInstanceOf(LocalMlflowTracker);
    expect((byPath as LocalMlflowTracker).root).toBe(dir);
    const byUri = createTracker(pathToFileURL(dir).href) as LocalMlflowTracker;
    expect(byUri.root).toBe(dir);
    await byUri.startRun({ experiment: 'e', runName: 'r' });
    expect(existsSync(join(dir, '0', 'meta.yaml'))).toBe(true);
  });

  it('refuses unknown schemes with a BonsaiError (servers are covered in rest-tracker.test.ts)', () => {
    expect(() => createTracker('sqlite:///mlflow.db')).toThrow(/not supported/);
    expect(() => createTracker('s3://bucket/x')).toThrow(BonsaiError);
    expect(() => createTracker('')).toThrow(BonsaiError);
  });

  it('resolveTrackingUri prefers the recipe, then MLFLOW_TRACKING_URI, then ./mlruns', () => {
    expect(resolveTrackingUri('a', { MLFLOW_TRACKING_URI: 'b' })).toBe('a');
    expect(resolveTrackingUri(undefined, { MLFLOW_TRACKING_URI: 'b' })).toBe('b');
    expect(resolveTrackingUri(undefined, {})).toBe('./mlruns');
  });
});
