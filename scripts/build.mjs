#!/usr/bin/env node
// `npm run build`: src/ → dist/, ESM JavaScript and .d.ts, plus the UI's static files, then
// dist/.built, the stamp bin/build-state.js compares with src/ to know the build is current.
// Built into a fresh folder and swapped in whole: a source deleted since the last build does
// not live on in dist/, and a `bonsai` started during the build never sees half of one.
// `--if-stale` (the `prepare` script: `npm ci` in a clone, `npm pack`) skips a current build:
// `npx bonsai` in a checkout links the project and runs `prepare` again each time.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from '../bin/build-state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const fresh = join(root, `.dist-${process.pid}`);
const old = join(root, `.dist-old-${process.pid}`);
if (process.argv.includes('--if-stale') && buildIsCurrent(root)) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('bonsai build: typescript is not installed (a devDependency: run `npm ci` without --omit=dev)');
  process.exit(1);
}

const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', fresh], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(fresh, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
cpSync(join(root, 'src', 'ui', 'static'), join(fresh, 'ui', 'static'), { recursive: true });
writeFileSync(join(fresh, '.built'), `${new Date().toISOString()}\n`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(fresh, dist);
rmSync(old, { recursive: true, force: true });
