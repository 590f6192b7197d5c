/**
 * Shipping the working directory: the files a job needs, zipped deterministically and
 * named by their content hash (`gcs://_ray_pkg_<hex>.zip`), so an unchanged tree maps to
 * a package the cluster already holds. Left out: node_modules, .git, run outputs (runs/,
 * mlruns/, the recipe's out_dir), what .gitignore ignores, and the caller's excludes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { ignoreMatcher } from './ignore.ts';
import { writeZip } from './zip.ts';

/** Never shipped: dependencies are installed on the worker, history and outputs are not inputs. */
export const ALWAYS_EXCLUDED = ['node_modules/', '.git', '/runs/', '/mlruns/'];

/** Ray's gRPC message limit in recent releases (older ones: 100–250 MiB). */
export const DEFAULT_MAX_PACKAGE_BYTES = 512 * 1024 * 1024;

/** The package limit: BONSAI_RAY_MAX_PACKAGE_BYTES when set (for older clusters, and tests). */
export function maxPackageBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BONSAI_RAY_MAX_PACKAGE_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_PACKAGE_BYTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new BonsaiError(`BONSAI_RAY_MAX_PACKAGE_BYTES must be a positive integer, got "${raw}"`);
  return n;
}

export interface WorkingDirPackage {
  /** `gcs://_ray_pkg_<hex>.zip`. */
  uri: string;
  zip: Buffer;
  /** The shipped paths, sorted. */
  files: string[];
}

/**
 * The files of `dir` to ship (relative, forward slashes, sorted). Inside a git work tree
 * git decides what is ignored (every .gitignore, info/exclude, the global excludes);
 * elsewhere the folder's own .gitignore is read.
 */
export function listShippedFiles(dir: string, excludes: readonly string[] = []): string[] {
  const excluded = ignoreMatcher([...ALWAYS_EXCLUDED, ...excludes]);
  const candidates = gitListing(dir) ?? walkListing(dir);
  return candidates
    .filter((f) => !excluded(f) && isFile(join(dir, f)))
    .sort();
}

/** Zips what `listShippedFiles` keeps; refuses a package over `maxBytes`, naming the largest files. */
export function packWorkingDir(dir: string, opts: { excludes?: readonly string[]; maxBytes?: number } = {}): WorkingDirPackage {
  const maxBytes = opts.maxBytes ?? maxPackageBytes();
  const files = listShippedFiles(dir, opts.excludes);
  const entries = files.map((name) => {
    const path = join(dir, name);
    return { name, data: readFileSync(path), mode: statSync(path).mode & 0o111 ? 0o755 : 0o644 };
  });
  const zip = writeZip(entries);
  if (zip.length > maxBytes) {
    const largest = [...entries].sort((a, b) => b.data.length - a.data.length).slice(0, 5);
    throw new BonsaiError(`the working directory ${dir} packs to ${mib(zip.length)}, over the ${mib(maxBytes)} limit of a Ray package`, {
      hint: `largest files: ${largest.map((e) => `${e.name} (${mib(e.data.length)})`).join(', ')}; leave some out with ray.excludes in the recipe or .gitignore (limit: BONSAI_RAY_MAX_PACKAGE_BYTES)`,
    });
  }
  const hash = createHash('sha256').update(zip).digest('hex').slice(0, 32);
  return { uri: `gcs://_ray_pkg_${hash}.zip`, zip, files };
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile(); // follows symlinks; a deleted-but-tracked file is skipped
  } catch {
    return false;
  }
}

/** Tracked and untracked-but-not-ignored files, when `dir` is in a git work tree and git runs. */
function gitListing(dir: string): string[] | undefined {
  const inside = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, encoding: 'utf8' });
  if (inside.status !== 0 || inside.stdout.trim() !== 'true') return undefined;
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) return undefined;
  return r.stdout.split('\0').filter(Boolean);
}

/** Every file under `dir` that its .gitignore does not ignore (ignored folders are not entered). */
function walkListing(dir: string): string[] {
  const gitignore = join(dir, '.gitignore');
  const ignored = ignoreMatcher(existsSync(gitignore) ? readFileSync(gitignore, 'utf8').split(/\r?\n/) : []);
  const alwaysOut = ignoreMatcher(ALWAYS_EXCLUDED);
  const out: string[] = [];
  const visit = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (!ignored(path, true) && !alwaysOut(path, true)) visit(path);
      } else if (!ignored(path)) out.push(path);
    }
  };
  visit('');
  return out;
}
