import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { BonsaiError } from '../../src/errors.ts';
import { LocalMlflowTracker } from '../../src/tracking/index.ts';

const T0 = 1_700_000_000_000;
const fresh = () => join(mkdtempSync(join(tmpdir(), 'bonsai-track-')), 'mlruns');
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');
const uri = (p: string) => pathToFileURL(p).href;

afterEach(() => vi.restoreAllMocks());

describe('LocalMlflowTracker: MLflow file store layout', () => {
  it('writes experiments and the run byte for byte as file_store.py does', async () => {
    const root = fresh();
    const t = new LocalMlflowTracker(root, { now: () => T0 });
    const { runId, experimentId, runDir } = await t.startRun({ experiment: 'demo', runName: 'first run', tags: { 'bonsai.recipe': 'a.yaml' } });
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(experimentId).toBe('1');
    expect(runDir).toBe(join(root, '1', runId));

    expect(read(root, '0', 'meta.yaml')).toBe(
      `artifact_location: ${uri(join(root, '0'))}\ncreation_time: ${T0}\nexperiment_id: '0'\n` +
        `last_update_time: ${T0}\nlifecycle_stage: active\nname: Default\n`,
    );
    expect(read(root, '1', 'meta.yaml')).toBe(
      `artifact_location: ${uri(join(root, '1'))}\ncreation_time: ${T0}\nexperiment_id: '1'\n` +
        `last_update_time: ${T0}\nlifecycle_stage: active\nname: demo\n`,
    );
    expect(existsSync(join(root, '.trash'))).toBe(true);
    const user = userInfo().username;
    const runMeta = (status: number, end: string) =>
      `artifact_uri: ${uri(join(root, '1'))}/${runId}/artifacts\nend_time: ${end}\nentry_point_name: ''\n` +
      `experiment_id: '1'\nlifecycle_stage: active\nrun_id: ${runId}\nrun_name: first run\nrun_uuid: ${runId}\n` +
      `source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: ${T0}\nstatus: ${status}\ntags: []\nuser_id: ${user}\n`;
    expect(read(runDir!, 'meta.yaml')).toBe(runMeta(1, 'null'));
    for (const d of ['metrics', 'params', 'artifacts', 'tags']) expect(existsSync(join(runDir!, d))).toBe(true);
    expect(read(runDir!, 'tags', 'mlflow.runName')).toBe('first run');
    expect(read(runDir!, 'tags', 'mlflow.user')).toBe(user);
    expect(read(runDir!, 'tags', 'mlflow.source.type')).toBe('LOCAL');
    expect(read(runDir!, 'tags', 'mlflow.source.name').length).toBeGreaterThan(0);
    expect(read(runDir!, 'tags', 'bonsai.recipe')).toBe('a.yaml');

    await t.logParams({ 'trainer.lr': '0.0003', 'model/name': 'tiny' });
    expect(read(runDir!, 'params', 'trainer.lr')).toBe('0.0003');
    expect(read(runDir!, 'params', 'model', 'name')).toBe('tiny');

    t.logMetrics(0, { loss: 2, 'eval/acc': 0.5 }, T0 + 1);
    t.logMetrics(1, { loss: 1e-5, 'eval/acc': NaN, big: Infinity, small: -Infinity }, T0 + 2);
    expect(existsSync(join(runDir!, 'metrics', 'loss'))).toBe(false); // buffered, not yet on disk
    await t.flush();
    expect(read(runDir!, 'metrics', 'loss')).toBe(`${T0 + 1} 2.0 0\n${T0 + 2} 1e-05 1\n`);
    expect(read(runDir!, 'metrics', 'eval', 'acc')).toBe(`${T0 + 1} 0.5 0\n${T0 + 2} nan 1\n`);
    expect(read(runDir!, 'metrics', 'big')).toBe(`${T0 + 2} inf 1\n`);
    expect(read(runDir!, 'metrics', 'small')).toBe(`${T0 + 2} -inf 1\n`);

    t.logMetrics(2, { loss: 0.25 }, T0 + 3);
    await t.endRun('FINISHED'); // flushes what is left
    expect(read(runDir!, 'metrics', 'loss').split('\n')).toHaveLength(4);
    expect(read(runDir!, 'meta.yaml')).toBe(runMeta(3, String(T0)));

    const parsed = YAML.parse(read(runDir!, 'meta.yaml'), { version: '1.1' });
    expect(parsed).toMatchObject({ experiment_id: '1', status: 3, end_time: T0, source_type: 4, entry_point_name: '', tags: [] });
    expect(YAML.parse(read(root, '1', 'meta.yaml'), { version: '1.1' }).experiment_id).toBe('1');
  });

  it.each([['FAILED', 4], ['KILLED', 5]] as const)('endRun(%s) persists status %i', async (status, code) => {
    const t = new LocalMlflowTracker(fresh());
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.endRun(status);
    const meta = YAML.parse(read(runDir!, 'meta.yaml'));
    expect(meta.status).toBe(code);
    expect(typeof meta.end_time).toBe('number');
  });

  it('quotes names that YAML 1.1 would read as another type', async () => {
    const root = fresh();
    const t = new LocalMlflowTracker(root);
    const { runDir } = await t.startRun({ experiment: '1:20', runName: 'on' });
    expect(YAML.parse(read(runDir!, 'meta.yaml'), { version: '1.1' }).run_name).toBe('on');
    expect(YAML.parse(read(root, '1', 'meta.yaml'), { version: '1.1' }).name).toBe('1:20');
  });

  it('reuses an experiment by name and picks the next integer id for a new one', async () => {
    const root = fresh();
    const a = await new LocalMlflowTracker(root).startRun({ experiment: 'a', runName: 'r' });
    const b = await new LocalMlflowTracker(root).startRun({ experiment: 'b', runName: 'r' });
    const a2 = await new LocalMlflowTracker(root).startRun({ experiment: 'a', runName: 'r' });
    expect([a.experimentId, b.experimentId, a2.experimentId]).toEqual(['1', '2', '1']);
    const d = await new LocalMlflowTracker(root).startRun({ experiment: 'Default', runName: 'r' });
    expect(d.experimentId).toBe('0');
  });

  it('trackers racing to create one experiment end up in one experiment', async () => {
    const root = fresh();
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => new LocalMlflowTracker(root).startRun({ experiment: 'race', runName: 'r' })),
    );
    expect(new Set(runs.map((r) => r.experimentId)).size).toBe(1);
    const exps = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== '.trash');
    expect(exps.map((e) => e.name).sort()).toEqual(['0', '1']);
    expect(readdirSync(root).some((n) => n.includes('lock'))).toBe(false);
  });

  it('params are immutable: same value again is fine, a different value is an error', async () => {
    const t = new LocalMlflowTracker(fresh());
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.logParams({ seed: '1' });
    await t.logParams({ seed: '1' });
    await expect(t.logParams({ seed: '2' })).rejects.toThrow(BonsaiError);
    await expect(t.logParams({ seed: '2' })).rejects.toThrow(/seed.*"1".*"2"/);
    expect(read(runDir!, 'params', 'seed')).toBe('1');
    await t.logParams({ long: 'x'.repeat(900) });
    expect(read(runDir!, 'params', 'long')).toHaveLength(500);
  });

  it('sanitises invalid keys, warning once per key', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const t = new LocalMlflowTracker(fresh());
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    for (let s = 0; s < 3; s++) t.logMetrics(s, { 'loss@train!': 1, '/abs/../x': 2 }, T0);
    await t.flush();
    expect(read(runDir!, 'metrics', 'loss_train_').split('\n')).toHaveLength(4);
    expect(existsSync(join(runDir!, 'metrics', 'abs', '__', 'x'))).toBe(true);
    const warnings = warn.mock.calls.map((c) => String(c[0]));
    expect(warnings.filter((w) => w.includes('loss@train!'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('/abs/../x'))).toHaveLength(1);
  });

  it('flushes buffered metrics in the background', async () => {
    const t = new LocalMlflowTracker(fresh(), { flushEveryMs: 30 });
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    t.logMetrics(5, { loss: 1.5 }, T0);
    await new Promise((r) => setTimeout(r, 200));
    expect(read(runDir!, 'metrics', 'loss')).toBe(`${T0} 1.5 5\n`);
    await t.endRun('FINISHED');
  });

  it('a failed metric write is reported by flush and retried, not lost', async () => {
    const t = new LocalMlflowTracker(fresh());
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    writeFileSync(join(runDir!, 'metrics', 'a'), ''); // 'a' is a file, so 'a/b' cannot be created
    t.logMetrics(1, { 'a/b': 1, c: 2 }, T0);
    await expect(t.flush()).rejects.toThrow(BonsaiError);
    rmSync(join(runDir!, 'metrics', 'a'));
    await t.flush();
    expect(read(runDir!, 'metrics', 'a', 'b')).toBe(`${T0} 1.0 1\n`);
    expect(read(runDir!, 'metrics', 'c')).toBe(`${T0} 2.0 1\n`);
  });

  it('logMetrics never throws, even before startRun or with odd input', async () => {
    const t = new LocalMlflowTracker(fresh());
    expect(() => t.logMetrics(NaN, { a: 1, b: undefined as unknown as number })).not.toThrow();
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.flush();
    expect(read(runDir!, 'metrics', 'a')).toMatch(/^\d+ 1.0 0\n$/);
    expect(existsSync(join(runDir!, 'metrics', 'b'))).toBe(false);
  });

  it('logs artifacts: a file under artifactPath, a folder under its name', async () => {
    const src = mkdtempSync(join(tmpdir(), 'bonsai-art-'));
    writeFileSync(join(src, 'recipe.yaml'), 'run: {}\n');
    mkdirSync(join(src, 'ckpt', 'sub'), { recursive: true });
    writeFileSync(join(src, 'ckpt', 'sub', 'w.bin'), 'abc');
    const t = new LocalMlflowTracker(fresh());
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.logArtifact(join(src, 'recipe.yaml'));
    await t.logArtifact(join(src, 'recipe.yaml'), 'config');
    await t.logArtifact(join(src, 'ckpt'));
    await t.logArtifact(join(src, 'ckpt'), 'final');
    expect(read(runDir!, 'artifacts', 'recipe.yaml')).toBe('run: {}\n');
    expect(read(runDir!, 'artifacts', 'config', 'recipe.yaml')).toBe('run: {}\n');
    expect(read(runDir!, 'artifacts', 'ckpt', 'sub', 'w.bin')).toBe('abc');
    expect(read(runDir!, 'artifacts', 'final', 'sub', 'w.bin')).toBe('abc');
    await expect(t.logArtifact(join(src, 'missing'))).rejects.toThrow(BonsaiError);
    await expect(t.logArtifact(join(src, 'recipe.yaml'), '../escape')).rejects.toThrow(BonsaiError);
  });

  it('setting mlflow.runName keeps meta.yaml run_name in step', async () => {
    const t = new LocalMlflowTracker(fresh());
    const { runDir } = await t.startRun({ experiment: 'e', runName: 'old' });
    await t.setTags({ 'mlflow.runName': 'new', note: 'x' });
    expect(YAML.parse(read(runDir!, 'meta.yaml')).run_name).toBe('new');
    expect(read(runDir!, 'tags', 'note')).toBe('x');
  });

  it('refuses calls that need a run before startRun', async () => {
    const t = new LocalMlflowTracker(fresh());
    await expect(t.logParams({ a: '1' })).rejects.toThrow(/startRun/);
    await expect(t.endRun('FINISHED')).rejects.toThrow(BonsaiError);
  });
});
