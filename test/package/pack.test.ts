/**
 * The package as a user gets it: `npm pack` (which runs `prepare`, the build) → the tarball
 * installed into a scratch project under a temp dir → there (a) plain Node ESM imports it and
 * trains 3 steps through the public API, (b) a TypeScript consumer with `tsc --init`'s default
 * config type-checks against the emitted declarations, (c) `npx bonsai train` runs a tiny
 * recipe. One pack and one install serve all three (the install reads the warm npm cache).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTinyRecipe } from '../helpers/recipes.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** Packing builds dist/ (~30 s) and installing tfjs takes a while on a busy machine. */
const SLOW = 600_000;

/** The environment without the npm_* variables an outer `npm test` sets (they would steer the inner npm). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

function run(cmd: string, args: string[], cwd: string, opts: SpawnSyncOptions = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv, timeout: SLOW, ...opts });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let project = '';
let packed: { filename: string; files: { path: string }[] };
const timings: Record<string, number> = {};

beforeAll(() => {
  const dir = tempDir('bonsai-pack-');
  let t = Date.now();
  const out = ok(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT), 'npm pack');
  timings.pack = Date.now() - t;
  packed = (JSON.parse(out.slice(out.indexOf('['))) as (typeof packed)[])[0]!;
  project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  t = Date.now();
  // --omit=optional: tfjs-node-gpu's install downloads libtensorflow, which this test does not need.
  ok(run('npm', ['install', join(dir, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional'], project), 'npm install');
  timings.install = Date.now() - t;
}, SLOW);

describe('the npm package', () => {
  it('ships the compiled library, its declarations, the bin and the schema, and no sources', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/cli/main.js', 'dist/ui/static/index.html', 'bin/bonsai.js', 'bin/build-state.js', 'recipe.schema.json', 'package.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|bench|scripts|examples|data)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files).not.toContain('dist/.built');
  });

  it('(a) plain Node ESM imports it and trains 3 steps through the public API', () => {
    const script = `
import * as bonsai from 'bonsai';
import * as node from 'bonsai/node';
const { AdamW, HookedTransformer, createTokenizer, createTrainStep, initBackend, modelConfig } = bonsai;
// The threaded wasm build and bonsai's own wasm kernels, loaded from the installed package.
const report = await initBackend('wasm', { wasmThreads: 2 });
const tok = createTokenizer('byte');
const model = HookedTransformer.create(modelConfig({ vocabSize: tok.vocabSize, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 0);
const step = createTrainStep({ model, optimizer: new AdamW({ lr: 1e-2 }), transforms: [] });
const ids = tok.encode('the cat sat on the mat. the cat sat on the mat.');
const batch = { inputs: Int32Array.from(ids.slice(0, 16)), targets: Int32Array.from(ids.slice(1, 17)), weights: new Float32Array(16).fill(1), batchSize: 1, seqLen: 16 };
const losses = [0, 1, 2].map(() => step(batch).loss);
console.log(JSON.stringify({
  backend: report.name, threads: report.threads, losses,
  node: [typeof node.startRewardServer, typeof node.RayJobsClient, typeof node.startUiServer, typeof node.pushRun],
  coreHasNodeParts: ['startRewardServer', 'RayJobsClient', 'startUiServer'].filter((k) => k in bonsai),
}));
`;
    writeFileSync(join(project, 'train.mjs'), script);
    const t = Date.now();
    const out = JSON.parse(ok(run(process.execPath, ['train.mjs'], project), 'node train.mjs').trim().split('\n').at(-1)!) as {
      backend: string; threads: number; losses: number[]; node: string[]; coreHasNodeParts: string[];
    };
    timings.esm = Date.now() - t;
    expect(out.backend).toBe('wasm');
    expect(out.threads).toBe(2);
    expect(out.losses).toHaveLength(3);
    expect(out.losses.every(Number.isFinite)).toBe(true);
    expect(out.losses[2]!).toBeLessThan(out.losses[0]!); // one batch, three AdamW steps: it fits
    expect(out.node).toEqual(['function', 'function', 'function', 'function']);
    expect(out.coreHasNodeParts).toEqual([]);
  }, SLOW);

  it("(b) a TypeScript consumer with tsc --init's default config type-checks against the declarations", () => {
    ok(run(process.execPath, [TSC, '--init'], project), 'tsc --init');
    writeFileSync(join(project, 'consumer.ts'), `
import { AdamW, HookedTransformer, createTrainStep, modelConfig, type LmBatch, type StepResult } from 'bonsai';
import { startRewardServer, type RewardServer } from 'bonsai/node';

const model: HookedTransformer = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 8 }), 0);
const step = createTrainStep({ model, optimizer: new AdamW({ lr: 1e-3 }), transforms: [] });
export function once(batch: LmBatch): number {
  const r: StepResult = step(batch);
  return r.loss;
}
export type Server = RewardServer;
export const serve: typeof startRewardServer = startRewardServer;
// The declarations are real types, not any: a wrong argument is an error.
// @ts-expect-error vocabSize is a number
modelConfig({ vocabSize: 'many', dModel: 16, nLayers: 1, nHeads: 2, nCtx: 8 });
`);
    const r = run(process.execPath, [TSC, '--noEmit', '-p', '.'], project);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
    // And the check can fail: a missing export is reported.
    writeFileSync(join(project, 'wrong.ts'), "import { noSuchExport } from 'bonsai';\nexport const x = noSuchExport;\n");
    const bad = run(process.execPath, [TSC, '--noEmit', '-p', '.'], project);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/wrong\.ts.*has no exported member 'noSuchExport'/);
  }, SLOW);

  it('(c) npx bonsai train runs a tiny recipe with the compiled bin', () => {
    const recipe = writeTinyRecipe(project, { steps: 3 });
    const t = Date.now();
    const r = run('npx', ['--no-install', 'bonsai', 'train', recipe, '--set', 'backend=wasm'], project);
    timings.cli = Date.now() - t;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/backend wasm/);
    expect(r.stdout).toMatch(/finished at step 3/);
    // The compiled bin ran: the installed package has no sources for tsx to run.
    expect(existsSync(join(project, 'node_modules', 'bonsai', 'src'))).toBe(false);
    expect(readFileSync(join(project, 'node_modules', 'bonsai', 'bin', 'bonsai.js'), 'utf8')).toContain('dist');
    console.log(`package test timings (ms): ${JSON.stringify(timings)}`);
  }, SLOW);
});
