import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shellQuote, trainEntrypoint } from '../../src/distributed/entrypoint.ts';
import { submitRecipeJob, type RecipeJobRequest } from '../../src/distributed/submit.ts';
import { FakeRayDashboard } from '../fakes/ray-dashboard.ts';
import { failure } from '../helpers/async.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';

/** A minimal bonsai project: package.json, data, and a recipe with relative paths. */
function project(recipeExtra = '', files: Record<string, string | Buffer> = {}): string {
  const dir = tempDir('bonsai-submit-');
  writeFileSync(join(dir, 'package.json'), '{"name":"my-experiments","dependencies":{"bonsai":"^0.1.0"}}');
  mkdirSync(join(dir, 'data'));
  writeTinyCorpus(join(dir, 'data'));
  writeFileSync(join(dir, 'r.yaml'), `
run: { name: sub }
model: { init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } } }
data: { train: { format: text, path: data/corpus.txt } }
trainer: { kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 } }
tracking: { uri: http://mlflow.internal:5000 }
${recipeExtra}`);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

describe('submitRecipeJob', () => {
  let fake: FakeRayDashboard;
  let base: RecipeJobRequest;
  beforeAll(async () => {
    fake = await FakeRayDashboard.start({ token: 'tok' });
  });
  afterAll(async () => fake?.close());
  beforeEach(() => {
    fake.log.length = 0;
    base = { address: fake.url, token: 'tok', recipePath: 'r.yaml' };
  });

  it('uploads the package only when the cluster lacks it, and submits the recipe with its ray section', async () => {
    const dir = project('ray: { cpus: 2, gpus: 0.5, memory: 1000000, env: { A: "1", B: "recipe" }, image_uri: "node:20", setup_timeout_seconds: 900 }');
    const first = await submitRecipeJob({ ...base, workingDir: dir, env: { B: 'request' }, cpus: 3, metadata: { 'bonsai.sweep': 's1' } });
    expect(first.uploaded).toBe(true);
    expect(first.warnings).toEqual([]);
    expect(fake.log).toEqual([
      'GET /api/version 200',
      `GET /api/packages/gcs/${first.packageUri.slice(6)} 404`,
      `PUT /api/packages/gcs/${first.packageUri.slice(6)} 200`,
      'POST /api/jobs/ 200',
    ]);
    const job = fake.jobs.get(first.submissionId)!.info;
    expect(job.entrypoint).toBe(trainEntrypoint('r.yaml', []));
    expect(job.runtime_env).toEqual({
      working_dir: first.packageUri,
      env_vars: { ...(process.env.MLFLOW_TRACKING_URI ? { MLFLOW_TRACKING_URI: process.env.MLFLOW_TRACKING_URI } : {}), A: '1', B: 'request' },
      image_uri: 'node:20',
      config: { setup_timeout_seconds: 900 },
    });
    expect(job).toMatchObject({ entrypoint_num_cpus: 3, entrypoint_num_gpus: 0.5, entrypoint_memory: 1000000 });
    expect(job.metadata).toEqual({ 'bonsai.recipe': 'r.yaml', 'bonsai.run': 'sub', 'bonsai.sweep': 's1' });
    expect(fake.packages.get(first.packageUri)!.subarray(0, 2).toString()).toBe('PK');

    fake.log.length = 0;
    const again = await submitRecipeJob({ ...base, workingDir: dir, sets: ['trainer.steps=3'] });
    expect(again.packageUri).toBe(first.packageUri);
    expect(again.uploaded).toBe(false);
    expect(fake.log.some((l) => l.startsWith('PUT'))).toBe(false);
    expect(fake.jobs.get(again.submissionId)!.info.entrypoint).toContain('npx bonsai train r.yaml --set trainer.steps=3');
  });

  it('warns, without failing, when the runs would land in a folder on the worker', async () => {
    const dir = project();
    writeFileSync(join(dir, 'local.yaml'), 'run: { name: l }\nmodel: { init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } } }\ndata: { train: { format: text, path: data/corpus.txt } }\ntrainer: { kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 } }\n');
    const saved = process.env.MLFLOW_TRACKING_URI;
    delete process.env.MLFLOW_TRACKING_URI;
    try {
      const local = await submitRecipeJob({ ...base, workingDir: dir, recipePath: join(dir, 'local.yaml') });
      expect(local.warnings).toHaveLength(1);
      expect(local.warnings[0]).toMatch(/tracking goes to the folder "\.\/mlruns" on the worker.*MLFLOW_TRACKING_URI/);
      const served = await submitRecipeJob({ ...base, workingDir: dir, recipePath: 'local.yaml', env: { MLFLOW_TRACKING_URI: 'http://mlflow:5000' } });
      expect(served.warnings).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
    }
  });

  it('refuses bad input before anything is sent', async () => {
    const dir = project();
    const cases: Array<[Partial<RecipeJobRequest>, RegExp]> = [
      [{ address: undefined }, /no Ray cluster to submit to/],
      [{ recipePath: '/etc/hosts' }, /outside the working directory/],
      [{ recipePath: 'missing.yaml' }, /missing\.yaml: cannot read recipe: no such file/],
      [{ sets: ['trainer.steps=-1'] }, /recipe has 1 error[\s\S]*trainer\.steps/],
      [{ maxPackageBytes: 100 }, /packs to .* over the 100 bytes limit/],
    ];
    const savedAddress = process.env.RAY_ADDRESS;
    delete process.env.RAY_ADDRESS;
    try {
      for (const [over, message] of cases) {
        const err = await failure(submitRecipeJob({ ...base, workingDir: dir, ...over }));
        expect(err.message).toMatch(message);
      }
      const notBonsai = tempDir('bonsai-notproj-');
      writeFileSync(join(notBonsai, 'package.json'), '{"name":"other"}');
      expect((await failure(submitRecipeJob({ ...base, workingDir: notBonsai }))).message).toMatch(/not a bonsai project/);
      const ignored = project('', { '.gitignore': '*.yaml\n' });
      expect((await failure(submitRecipeJob({ ...base, workingDir: ignored }))).message).toMatch(/r\.yaml would not be shipped/);
    } finally {
      if (savedAddress !== undefined) process.env.RAY_ADDRESS = savedAddress;
    }
    expect(fake.log).toEqual([]);
  });

  it('refuses a recipe that reads what is not shipped; warns about paths outside the working directory', async () => {
    const dir = project();
    mkdirSync(join(dir, 'runs'));
    writeTinyCorpus(join(dir, 'runs'));
    const err = await failure(submitRecipeJob({ ...base, workingDir: dir, sets: ['data.train.path=runs/corpus.txt'] }));
    expect(err.message).toBe('the recipe reads what would not be shipped, so the job would fail on it:\n  data.train.path: runs/corpus.txt');
    expect(err.hint).toMatch(/runs\/, mlruns\/, the out_dir/);
    expect(fake.log).toEqual([]);
    const outside = writeTinyCorpus(tempDir('bonsai-shared-'));
    const ok = await submitRecipeJob({ ...base, workingDir: dir, sets: [`data.eval={ format: text, path: ${outside} }`] });
    expect(ok.warnings).toEqual([`data.eval.path: ${outside} is outside the working directory, so it is not shipped; the job finds it only if the nodes have it at that path`]);
  });

  it('stops at the version check when the token is refused: nothing uploaded, nothing submitted', async () => {
    const dir = project();
    const jobs = fake.jobs.size;
    const err = await failure(submitRecipeJob({ ...base, workingDir: dir, token: 'wrong' }));
    expect(err.message).toMatch(/auth token is not valid \(403\)/);
    expect(fake.log).toEqual(['GET /api/version 403']);
    expect(fake.jobs.size).toBe(jobs);
  });

  it("shows Ray's own text when it refuses the submission", async () => {
    const dir = project();
    await submitRecipeJob({ ...base, workingDir: dir, submissionId: 'taken' });
    const err = await failure(submitRecipeJob({ ...base, workingDir: dir, submissionId: 'taken' }));
    expect(err.message).toMatch(/Ray answered 400 to POST .*\/api\/jobs\/:\nJob with submission_id taken already exists/);
  });
});

describe('the entrypoint', () => {
  it('quotes every argument so the shell hands bonsai exactly what the user typed', () => {
    const args = ['recipes/a b.yaml', "sample.prompt=it's $HOME `x` \"q\"", 'trainer.lr=1e-3', ''];
    const r = spawnSync('/bin/sh', ['-c', `printf '%s|' ${args.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`${args.join('|')}|`);
    expect(shellQuote('trainer.lr=1e-3')).toBe('trainer.lr=1e-3');
  });

  it('installs dependencies first only when the copy has none', () => {
    const dir = tempDir('bonsai-entry-');
    const npmStub = join(dir, 'bin');
    mkdirSync(npmStub);
    // Stand-ins for npm and npx record what ran, so the shell logic itself is what is tested.
    writeFileSync(join(npmStub, 'npm'), '#!/bin/sh\necho "npm $*" >> calls\n', { mode: 0o755 });
    writeFileSync(join(npmStub, 'npx'), '#!/bin/sh\necho "npx $*" >> calls\n', { mode: 0o755 });
    const run = () => spawnSync('/bin/sh', ['-c', trainEntrypoint('r.yaml', ['a=b c'])], { cwd: dir, env: { ...process.env, PATH: `${npmStub}:${process.env.PATH}` }, encoding: 'utf8' });
    run();
    mkdirSync(join(dir, 'node_modules'));
    run();
    const calls = spawnSync('cat', [join(dir, 'calls')], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(calls).toEqual(['npm ci --no-audit --no-fund', 'npx bonsai train r.yaml --set a=b c', 'npx bonsai train r.yaml --set a=b c']);
  });
});
