/**
 * A sweep on Ray, against the fake dashboard (test/fakes/ray-dashboard.ts, which follows
 * the Jobs API as specs/ray-jobs.md records it): one job per point, each carrying the
 * parent run id and the point's tags in runtime_env.env_vars, the package uploaded once.
 * Most jobs follow the fake's script (they do not train); one test has the fake really run
 * them (unpacked package, entrypoint through a shell) to see their runs nested.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRunStore } from '../../../src/tracking/store/index.ts';
import { planSweep } from '../../../src/distributed/sweep/plan.ts';
import { rayPointRunner } from '../../../src/distributed/sweep/ray.ts';
import { runSweep, sweepTrackingUri } from '../../../src/distributed/sweep/run.ts';
import { FakeRayDashboard } from '../../fakes/ray-dashboard.ts';
import { tempDir, writeTinyCorpus, writeTinyRecipe } from '../../helpers/recipes.ts';
import { storedRuns } from './stored-runs.ts';

let ray: FakeRayDashboard | undefined;
afterEach(async () => {
  await ray?.close();
  ray = undefined;
});

/** A bonsai project (package.json names bonsai) holding the tiny recipe; the sweep's plan for two lrs. */
function project() {
  const dir = tempDir('bonsai-sweep-ray-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bonsai', version: '0.0.0' }));
  const file = writeTinyRecipe(dir, { steps: 3, extra: 'ray: { cpus: 1 }' });
  return { dir, plan: planSweep(file, { grids: ['trainer.optimizer.lr=1e-2,3e-3'] }) };
}

async function sweepOnRay(final: 'SUCCEEDED' | 'FAILED') {
  ray = await FakeRayDashboard.start({ final, scriptLogs: ['step 1\n', final === 'FAILED' ? 'error: out of memory\n' : 'done\n'] });
  const { dir, plan } = project();
  const lines: string[] = [];
  const write = (l: string) => lines.push(l);
  const uri = sweepTrackingUri(plan);
  const runner = rayPointRunner(plan, { address: ray.url, write, pollMs: 20, workingDir: dir });
  const result = await runSweep(plan, { store: new LocalRunStore(uri), uri, write, runner });
  return { dir, plan, result, out: lines.join('\n'), jobs: [...ray.jobs.values()].map((j) => j.info) };
}

describe('bonsai sweep --on ray', () => {
  it('submits one job per point with the parent run id and point tags in env_vars, uploading the package once', async () => {
    const { dir, plan, result, out, jobs } = await sweepOnRay('SUCCEEDED');
    expect(jobs).toHaveLength(2);
    expect(ray!.log.filter((l) => l.startsWith('PUT /api/packages/'))).toHaveLength(1);
    const parent = storedRuns(join(dir, 'mlruns')).find((r) => r.tags['bonsai.sweep.role'] === 'parent')!;
    expect(result.parentRunId).toBe(parent.id);
    expect(parent.meta.status).toBe(3); // both jobs SUCCEEDED
    for (const [i, job] of jobs.entries()) {
      const env = (job.runtime_env as { env_vars: Record<string, string> }).env_vars;
      expect(env.BONSAI_PARENT_RUN_ID).toBe(parent.id);
      const tags = JSON.parse(env.BONSAI_RUN_TAGS!);
      expect(tags).toMatchObject({ 'bonsai.sweep.id': plan.id, 'bonsai.sweep.index': String(i), 'sweep.trainer.optimizer.lr': ['0.01', '0.003'][i] });
      expect(job.entrypoint).toContain(`npx bonsai train tiny.yaml --set trainer.optimizer.lr=${['0.01', '0.003'][i]} `);
      expect(job.entrypoint).toContain(`--set run.out_dir=${plan.points[i]!.outDir}`);
      expect(job.metadata).toMatchObject({ 'bonsai.sweep.id': plan.id, 'bonsai.sweep.parent': parent.id });
      expect(job.entrypoint_num_cpus).toBe(1);
    }
    expect(out).toMatch(/\[0 lr=0\.01\] submitted as Ray job \S+ \(uploaded gcs:\/\/_ray_pkg_[0-9a-f]+\.zip\)/);
    expect(out).toMatch(/\[1 lr=0\.003\] SUCCEEDED/);
    // The tracking folder is local: said once, not per point.
    expect(out.match(/warning: tracking goes to the folder/g)).toHaveLength(1);
  });

  it('failed jobs fail their points (with the end of their log) and the parent', async () => {
    const { dir, result, out } = await sweepOnRay('FAILED');
    expect(result.status).toBe('FAILED');
    expect(result.outcomes.map((o) => [o.ok, o.exit])).toEqual([[false, 'FAILED'], [false, 'FAILED']]);
    expect(out).toMatch(/point 1 \(lr=0\.003\) failed \(exit FAILED\):\n(.*\n)*\s+error: out of memory/);
    expect(storedRuns(join(dir, 'mlruns')).find((r) => r.tags['bonsai.sweep.role'] === 'parent')!.meta.status).toBe(4);
  });

  it('jobs that really run log their runs nested under the parent', async () => {
    ray = await FakeRayDashboard.start({ mode: 'run' });
    const REPO = join(import.meta.dirname, '..', '..', '..');
    const dir = tempDir('bonsai-sweep-ray-run-');
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) cpSync(join(REPO, f), join(dir, f));
    for (const d of ['bin', 'src']) cpSync(join(REPO, d), join(dir, d), { recursive: true });
    mkdirSync(join(dir, 'data'));
    writeTinyCorpus(join(dir, 'data'));
    // The jobs run on this machine: absolute paths (data, tracking folder) are the same for them and the sweep.
    writeFileSync(join(dir, 'tiny.yaml'), `
run: { name: tiny, seed: 3 }
backend: cpu
model: { init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } } }
data: { train: { format: text, path: ${join(dir, 'data', 'corpus.txt')} }, eval_fraction: 0.1 }
trainer: { kind: sft, steps: 2, batch_size: 4, optimizer: { kind: adamw, lr: 1.0e-2 }, eval: { every: 0, batches: 2 }, log_every: 1 }
tracking: { uri: ${join(dir, 'shared-mlruns')}, experiment: test }
`);
    const plan = planSweep(join(dir, 'tiny.yaml'), { grids: ['trainer.optimizer.lr=1e-2,3e-3'] });
    const uri = sweepTrackingUri(plan);
    const runner = rayPointRunner(plan, { address: ray.url, write: () => {}, pollMs: 200, workingDir: dir });
    const result = await runSweep(plan, { store: new LocalRunStore(uri), uri, write: () => {}, runner });
    expect(result.status).toBe('FINISHED');
    const runs = storedRuns(join(dir, 'shared-mlruns'));
    const children = runs.filter((r) => r.tags['mlflow.parentRunId'] === result.parentRunId);
    expect(children.map((c) => [c.meta.status, c.tags['sweep.trainer.optimizer.lr']]).sort()).toEqual([[3, '0.003'], [3, '0.01']]);
  }, 120_000);
});
