import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runsPushCommand } from '../../src/cli/runs-push.ts';
import { LocalMlflowTracker } from '../../src/tracking/index.ts';
import { FakeMlflow } from '../fakes/mlflow-server.ts';
import { tempDir } from '../helpers/recipes.ts';

let server: FakeMlflow | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
});

describe('bonsai runs push', () => {
  it('pushes a local run, then says it is up to date', async () => {
    server = await FakeMlflow.start();
    const t = new LocalMlflowTracker(join(tempDir(), 'mlruns'), { systemMetricsMs: 0 });
    const { runDir } = await t.startRun({ experiment: 'cli', runName: 'pushed' });
    await t.logParams({ a: '1' });
    t.logMetrics(1, { loss: 0.5 });
    await t.endRun('FINISHED');
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    expect(await runsPushCommand([runDir!, '--to', server.url])).toBe(0);
    expect(await runsPushCommand([runDir!, '--to', server.url])).toBe(0);
    expect(out[0]).toMatch(/run [0-9a-f]{32}: \d+ events sent/);
    expect(out[1]).toMatch(/0 events sent \(already up to date\)/);
    const run = server.runByName('pushed')!;
    expect([run.metrics.length, run.params.get('a'), run.info.status]).toEqual([1, '1', 'FINISHED']);
  });

  it('is reached as `bonsai runs push` and reports a refused credential as a user error', async () => {
    server = await FakeMlflow.start({ token: 'right' });
    const t = new LocalMlflowTracker(join(tempDir(), 'mlruns'), { systemMetricsMs: 0 });
    const { runDir } = await t.startRun({ experiment: 'cli', runName: 'denied' });
    await t.endRun('FINISHED');
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    vi.stubEnv('MLFLOW_TRACKING_TOKEN', 'wrong-secret');
    expect(await main(['runs', 'push', runDir!, '--to', server.url])).toBe(1);
    vi.unstubAllEnvs();
    expect(err.join('')).toMatch(/UNAUTHENTICATED[\s\S]*hint: set MLFLOW_TRACKING_TOKEN/);
    expect(err.join('')).not.toContain('wrong-secret');
  });

  it('refuses a missing or non-http target with a hint', async () => {
    await expect(runsPushCommand(['x', '--to', './mlruns'])).rejects.toThrow(/must be an MLflow server URL/);
    vi.stubEnv('MLFLOW_TRACKING_URI', '');
    await expect(runsPushCommand(['x'])).rejects.toThrow(/no server to push to/);
    vi.unstubAllEnvs();
  });
});
