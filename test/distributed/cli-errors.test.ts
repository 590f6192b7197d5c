/**
 * `bonsai ray` on bad input: each failure is one clear message (exit 1, no stack trace),
 * and where it can be known before submitting, nothing reaches the dashboard.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRayDashboard } from '../fakes/ray-dashboard.ts';
import { hasStackTrace } from '../helpers/cli.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';
import { bonsaiAsync } from './cli-async.ts';

function project(): string {
  const dir = tempDir('bonsai-ray-cli-');
  writeFileSync(join(dir, 'package.json'), '{"name":"bonsai"}');
  writeTinyCorpus(dir);
  writeFileSync(join(dir, 'r.yaml'), `
model: { init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } } }
data: { train: { format: text, path: corpus.txt } }
trainer: { kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 } }
`);
  return dir;
}

describe('bonsai ray: failures a user can act on', () => {
  let fake: FakeRayDashboard;
  let failing: FakeRayDashboard;
  let dir: string;
  beforeAll(async () => {
    fake = await FakeRayDashboard.start({ token: 'tok' });
    failing = await FakeRayDashboard.start({ final: 'FAILED', scriptLogs: ['Traceback: boom\n'] });
    dir = project();
  });
  afterAll(async () => {
    await fake?.close();
    await failing?.close();
  });

  // The first three touch nothing the others assert on, so they run side by side: each CLI start costs seconds.
  it.concurrent('an unreachable address', async ({ expect }) => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const r = await bonsaiAsync(['ray', 'submit', 'r.yaml', '--address', `127.0.0.1:${port}`], dir, { MLFLOW_TRACKING_URI: 'http://mlflow:5000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: cannot reach the Ray dashboard at http://127.0.0.1:${port} (GET /api/version: ECONNREFUSED)`);
    expect(r.stderr).toContain('hint: check --address / RAY_ADDRESS');
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it.concurrent('refused auth, before any upload', async ({ expect }) => {
    const r = await bonsaiAsync(['ray', 'submit', 'r.yaml'], dir, { RAY_ADDRESS: fake.url, RAY_AUTH_TOKEN: '', RAY_AUTH_TOKEN_PATH: '', HOME: dir, MLFLOW_TRACKING_URI: 'http://mlflow:5000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: the Ray dashboard refused GET .*\/api\/version: no auth token \(401\)/);
    expect(fake.log).toEqual(['GET /api/version 401']);
  });

  it.concurrent("a failed job: logs --follow streams its log and exits 1 with Ray's message", async ({ expect }) => {
    const sub = await bonsaiAsync(['ray', 'submit', 'r.yaml', '--address', failing.url], dir, { MLFLOW_TRACKING_URI: 'http://mlflow:5000', RAY_AUTH_TOKEN: '' });
    const id = /submitted (\S+)/.exec(sub.stdout)![1]!;
    const r = await bonsaiAsync(['ray', 'logs', id, '--follow', '--address', failing.url], dir, { RAY_AUTH_TOKEN: '' });
    expect(r.stdout).toBe('Traceback: boom\n');
    expect(r.stderr).toBe(`job ${id}: FAILED (Job entrypoint command failed with exit code 1)\n`);
    expect(r.code).toBe(1);
  });

  it('a package over the limit (BONSAI_RAY_MAX_PACKAGE_BYTES), before anything is sent; and the local-tracking warning', async () => {
    fake.log.length = 0;
    const r = await bonsaiAsync(['ray', 'submit', 'r.yaml'], dir, { RAY_ADDRESS: fake.url, RAY_AUTH_TOKEN: 'tok', BONSAI_RAY_MAX_PACKAGE_BYTES: '500', MLFLOW_TRACKING_URI: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: the working directory .* packs to \d+ bytes, over the 500 bytes limit of a Ray package/);
    expect(r.stderr).toMatch(/hint: largest files: corpus\.txt/);
    expect(fake.log).toEqual([]);
    const ok = await bonsaiAsync(['ray', 'submit', 'r.yaml', '--cpus', '0.5'], dir, { RAY_ADDRESS: fake.url, RAY_AUTH_TOKEN: 'tok', MLFLOW_TRACKING_URI: '' });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/^warning: tracking goes to the folder "\.\/mlruns" on the worker/);
    expect(ok.stdout).toMatch(/package gcs:\/\/_ray_pkg_[0-9a-f]+\.zip \(uploaded\)\nsubmitted raysubmit_\d+ to http/);
  });

  it('an unknown job id, and bad flags', async () => {
    const env = { RAY_ADDRESS: fake.url, RAY_AUTH_TOKEN: 'tok' };
    // Independent runs, started together: each CLI start costs seconds on a shared machine.
    const [status, logs, stop, cpus, none] = await Promise.all([
      ...['status', 'logs', 'stop'].map((sub) => bonsaiAsync(['ray', sub, 'raysubmit_nope'], dir, env)),
      bonsaiAsync(['ray', 'submit', 'r.yaml', '--cpus', 'many'], dir, env),
      bonsaiAsync(['ray', 'list'], dir, { RAY_ADDRESS: '' }),
    ]);
    for (const r of [status!, logs!, stop!]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: Ray says: Job raysubmit_nope does not exist');
      expect(r.stderr).toContain('hint: see `bonsai ray list`');
    }
    expect(cpus!.stderr).toContain('error: --cpus must be a non-negative number, got "many"');
    expect(none!.stderr).toContain('error: no Ray cluster named');
  });

});
