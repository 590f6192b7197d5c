import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BonsaiError } from '../../../src/errors.ts';
import { LocalRunStore, parseMetricLines, resolveRun } from '../../../src/tracking/store/index.ts';
import { tempDir } from '../../helpers/recipes.ts';
import { storeWithJunk, writeRun } from './fixtures.ts';

describe('LocalRunStore', () => {
  it('lists runs with params, tags, status and latest metrics, and reads full histories', async () => {
    const { root, a, b } = await storeWithJunk();
    const store = new LocalRunStore(root);
    const { runs, experiments } = await store.list();
    expect(experiments.map((e) => e.name)).toEqual(['Default', 'exp']);
    expect(runs.map((r) => r.id).sort()).toEqual([a, b].sort());
    const alpha = runs.find((r) => r.id === a)!;
    expect(alpha).toMatchObject({ name: 'alpha', status: 'FINISHED', experimentName: 'exp', params: { lr: '0.01', seed: '1' } });
    expect(alpha.tags['mlflow.runName']).toBe('alpha');
    expect(alpha.metrics.loss).toEqual({ step: 2, timestamp: 1002, value: 1.5 });
    expect(alpha.metrics['train/acc']!.value).toBeCloseTo(0.2);
    expect(alpha.endTime).toBeGreaterThanOrEqual(alpha.startTime!);
    const h = await store.histories(a);
    expect(h.loss!.map((p) => p.value)).toEqual([3, 2, 1.5]);
    expect(Object.keys(h).sort()).toEqual(['loss', 'train/acc']);
    expect((await store.list({ experiment: 'Default' })).runs).toEqual([]);
    expect((await store.list({ experiment: '1' })).runs).toHaveLength(2);
  });

  it('lists junk, a corrupt experiment and a foreign run folder as unreadable, with reasons', async () => {
    const { root } = await storeWithJunk();
    const { unreadable, runs } = await new LocalRunStore(root).list();
    expect(runs).toHaveLength(2);
    const by = Object.fromEntries(unreadable.map((u) => [u.path, u.reason]));
    expect(by.junk).toBe('no meta.yaml');
    expect(by['7']).toMatch(/not valid YAML/);
    expect(by['1/ffffffffffffffffffffffffffffffff']).toMatch(/run_id/);
    expect(Object.keys(by)).toHaveLength(3); // a stray file at the root is ignored, not an error
  });

  it('a garbled metric file makes only that run unreadable; a half-written last line is skipped', async () => {
    const root = join(tempDir(), 'mlruns');
    const good = await writeRun(root, 'live', {}, [1, 2], { end: false });
    const bad = await writeRun(root, 'bad', {}, [1]);
    appendFileSync(join(root, '1', good, 'metrics', 'loss'), '1005 0.5'); // no newline yet
    writeFileSync(join(root, '1', bad, 'metrics', 'loss'), '1000 1.0 0\nhello world\n');
    const { runs, unreadable } = await new LocalRunStore(root).list();
    expect(runs.map((r) => r.name)).toEqual(['live']);
    expect(runs[0]!.status).toBe('RUNNING');
    expect(runs[0]!.metrics.loss!.value).toBe(2);
    expect(unreadable).toEqual([{ path: `1/${bad}`, reason: expect.stringMatching(/metrics\/loss: line 2/) }]);
  });

  it('a missing store is a user error', async () => {
    await expect(new LocalRunStore(join(tempDir(), 'nope')).list()).rejects.toThrow(BonsaiError);
  });

  it('parses Python float spellings and step-less old lines', () => {
    expect(parseMetricLines('1 nan 0\n2 inf 1\n3 -inf 2\n4 1e-05\n')).toEqual([
      { timestamp: 1, value: NaN, step: 0 }, { timestamp: 2, value: Infinity, step: 1 },
      { timestamp: 3, value: -Infinity, step: 2 }, { timestamp: 4, value: 1e-5, step: 0 },
    ]);
  });
});

describe('resolveRun', () => {
  const run = (id: string, name: string) => ({ id, name, experimentId: '1', experimentName: 'e', status: 'FINISHED' as const, params: {}, tags: {}, metrics: {} });
  const runs = [run('abc1'.padEnd(32, '0'), 'alpha'), run('abc2'.padEnd(32, '0'), 'beta'), run('def0'.padEnd(32, '0'), 'beta')];
  it('takes a full id, a unique prefix, or a unique name', () => {
    expect(resolveRun(runs, runs[0]!.id).name).toBe('alpha');
    expect(resolveRun(runs, 'abc2').name).toBe('beta');
    expect(resolveRun(runs, 'alpha').id).toBe(runs[0]!.id);
  });
  it('lists the candidates when ambiguous or unknown', () => {
    expect(() => resolveRun(runs, 'abc')).toThrow(/matches 2 runs:\n {2}abc10000 {2}alpha[^]*abc20000/);
    expect(() => resolveRun(runs, 'beta')).toThrow(/matches 2 runs/);
    expect(() => resolveRun(runs, 'alph')).toThrow(/no run matches "alph"; runs with similar names:\n {2}abc10000 {2}alpha/);
  });
});
