// Whether dist/ holds a build of the current sources: its stamp (dist/.built, written last by
// scripts/build.mjs) is newer than every file under src/. Shared by the bin and the build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The newest modification time under a folder (ms). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** True when `root`/dist is built and no file under `root`/src is newer than that build. */
export function buildIsCurrent(root) {
  const stamp = join(root, 'dist', '.built');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js')) || !existsSync(stamp)) return false;
  return !existsSync(join(root, 'src')) || statSync(stamp).mtimeMs >= newest(join(root, 'src'));
}
