#!/usr/bin/env node
// The `bonsai` command. An installed package runs its compiled JavaScript (dist/). In a source
// checkout (src/ beside it) dist/ runs when it was built after the newest source file; while
// sources are newer (editing, before `npm run build`) they run through tsx, a devDependency,
// so a stale build never runs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIsCurrent } from './build-state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

let entry = built;
if (existsSync(source) && !buildIsCurrent(root)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch {
    if (existsSync(built)) console.error('bonsai: warning: dist/ is older than src/ and tsx is not installed; run `npm run build`');
  }
}
if (!existsSync(entry)) {
  console.error('bonsai: dist/ is missing; run `npm run build` (or `npm ci`, which builds it)');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
