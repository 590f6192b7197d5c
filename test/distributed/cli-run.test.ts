/**
 * End to end: `bonsai ray submit` ships a small bonsai project to the fake dashboard,
 * which unpacks the zip with unzip and really runs the entrypoint through a shell (the
 * repo's node_modules linked in, as an image with dependencies would have them). The
 * run's log comes back through `bonsai ray logs`, and its MLflow run reaches the server
 * named by MLFLOW_TRACKING_URI, which travelled in runtime_env.env_vars.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMlflow } from '../fakes/mlflow-server.ts';
import { FakeRayDashboard } from '../fakes/ray-dashboard.ts';
import { hasStackTrace } from '../helpers/cli.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';
import { bonsaiAsync } from './cli-async.ts';

const REPO = join(import.meta.dirname, '..', '..');

/** A bonsai project as a user has it: the package, its sources, a recipe and its data (relative paths). */
function writeProject(): string {
  const dir = tempDir('bonsai-ray-project-');
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) cpSync(join(REPO, f), join(dir, f));
  cpSync(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(REPO, 'src'), join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'data'));
  writeTinyCorpus(join(dir, 'data'));
  mkdirSync(join(dir, 'recipes'));
  writeFileSync(join(dir, 'recipes', 'tiny ray.yaml'), `
run: { name: tiny-ray, seed: 3 }
backend: cpu
model:
  init:
    config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 }
data:
  train: { format: text, path: data/corpus.txt }
  eval_fraction: 0.1
trainer:
  kind: sft
  steps: 6
  batch_size: 4
  optimizer: { kind: adamw, lr: 1.0e-2 }
  eval: { every: 0, batches: 2 }
  log_every: 1
tracking: { experiment: ray-test }
ray: { cpus: 1, env: { BONSAI_RAY_TEST: "yes" } }
`);
  // Outputs and ignored files that must not travel.
  mkdirSync(join(dir, 'runs', 'old'), { recursive: true });
  writeFileSync(join(dir, 'runs', 'old', 'weights.bin'), 'x'.repeat(1000));
  writeFileSync(join(dir, 'scratch.log'), 'local notes');
  writeFileSync(join(dir, '.gitignore'), '*.log\n');
  return dir;
}

describe('bonsai ray against a fake dashboard that runs the job', () => {
  let ray: FakeRayDashboard;
  let mlflow: FakeMlflow;
  let project: string;
  beforeAll(async () => {
    ray = await FakeRayDashboard.start({ mode: 'run', token: 'sesame' });
    mlflow = await FakeMlflow.start();
    project = writeProject();
  });
  afterAll(async () => {
    await ray?.close();
    await mlflow?.close();
  });

  it('ships the project, runs npx bonsai train on it, and brings the log back', async () => {
    const env = { RAY_ADDRESS: ray.url, RAY_AUTH_TOKEN: 'sesame', MLFLOW_TRACKING_URI: mlflow.url };
    const sub = await bonsaiAsync(['ray', 'submit', 'recipes/tiny ray.yaml', '--set', 'trainer.steps=5'], project, env);
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(0);
    const id = /submitted (\S+)/.exec(sub.stdout)?.[1];
    expect(id).toBeDefined();
    expect(sub.stdout).toContain(`bonsai ray logs ${id} --follow`);

    // Follow while it runs: the stream ends when the job does, with the job's verdict.
    const follow = await bonsaiAsync(['ray', 'logs', id!, '--follow'], project, env);
    const job = await ray.waitFor(id!);
    expect(job.info.status, job.logs).toBe('SUCCEEDED');
    expect(follow.code).toBe(0);
    expect(follow.stdout).toContain('finished at step 5');
    expect(follow.stderr).toContain('SUCCEEDED');

    // What was shipped: sources and data, not outputs, ignored files or dependencies.
    expect(existsSync(join(job.dir!, 'src', 'cli', 'ray.ts'))).toBe(true);
    expect(existsSync(join(job.dir!, 'data', 'corpus.txt'))).toBe(true);
    expect(existsSync(join(job.dir!, 'runs', 'old'))).toBe(false);
    expect(existsSync(join(job.dir!, 'scratch.log'))).toBe(false);
    expect(job.info.entrypoint).toContain("npx bonsai train 'recipes/tiny ray.yaml' --set trainer.steps=5");
    expect(job.info.runtime_env.env_vars).toEqual({ MLFLOW_TRACKING_URI: mlflow.url, BONSAI_RAY_TEST: 'yes' });
    expect(job.info.entrypoint_num_cpus).toBe(1);

    // The whole log, and the status, through the CLI; the run reached the shared server.
    const logs = await bonsaiAsync(['ray', 'logs', id!], project, env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('finished at step 5');
    const status = await bonsaiAsync(['ray', 'status', id!], project, env);
    expect(status.stdout).toMatch(new RegExp(`${id}\\s+SUCCEEDED`));
    expect(mlflow.runByName('tiny-ray')?.info.status).toBe('FINISHED');
    const list = await bonsaiAsync(['ray', 'list'], project, env);
    expect(list.stdout).toContain('tiny-ray');
    const del = await bonsaiAsync(['ray', 'delete', id!], project, env);
    expect(del.stdout).toContain(`deleted ${id}`);
    expect(hasStackTrace(sub.stderr + follow.stderr + logs.stderr + status.stderr)).toBe(false);
  });
});
