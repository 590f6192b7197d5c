#!/usr/bin/env node
// The `bonsai` command. An installed package runs its compiled JavaScript (dist/). In a source
// checkout (src/ beside it) dist/ runs when it was built after the newest source file; while
// sources are newer (editing, before `npm run build`) they run through tsx, a devDependency,
// so a stale build never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src');

/** The newest modification time under a folder (ms). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function builtIsCurrent() {
  const stamp = join(root, 'dist', '.built');
  return existsSync(built) && existsSync(stamp) && statSync(stamp).mtimeMs >= newest(sources);
}

let entry = built;
if (existsSync(join(sources, 'cli', 'main.ts')) && !builtIsCurrent()) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = join(sources, 'cli', 'main.ts');
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
