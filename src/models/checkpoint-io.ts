/**
 * Checkpoint directories that are never half-written. Files go into a sibling temp folder,
 * are fsynced, and the folder is renamed into place, so a crash at any point leaves either
 * the old checkpoint or the new one. A manifest of sizes and sha256 hashes lets a reader
 * tell a complete checkpoint from one damaged afterwards (disk full, partial copy).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { writeAll, type ChunkedBytes } from './safetensors.ts';

/** Name of the manifest every checkpoint directory carries. */
export const MANIFEST_NAME = 'manifest.json';
const MANIFEST_FORMAT = 'bonsai-manifest-1';
const STEP_DIR = /^step-(\d+)$/;
// `<name>.tmp-<pid>-<rand>` while writing; `<name>.old-<pid>-<rand>` while replacing.
const SIDE_DIR = /^(step-\d+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

/** One checkpoint found by `listCheckpoints`. */
export interface CheckpointEntry {
  step: number;
  dir: string;
}

interface Manifest {
  format: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

/**
 * Writes `files` (relative paths; `/` makes subfolders) plus `manifest.json` as the
 * directory `dir`, atomically, replacing any existing `dir`. A file given as ChunkedBytes
 * (model weights) is written and hashed chunk by chunk, never held whole.
 * @param opts.beforeCommit called once everything is written and synced, just before the
 *   rename; a throw aborts the write as a crash would (tests use it to prove atomicity).
 */
export function writeCheckpointDir(dir: string, files: Record<string, Buffer | string | ChunkedBytes>, opts: { beforeCommit?: (tmpDir: string) => void } = {}): void {
  const manifest: Manifest = { format: MANIFEST_FORMAT, files: {} };
  for (const name of Object.keys(files)) checkName(name, dir);
  if (MANIFEST_NAME in files) throw new BonsaiError(`checkpoint file name ${MANIFEST_NAME} is reserved`, { where: dir });
  mkdirSync(dirname(dir), { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${dir}.tmp-${tag}`;
  let aside: string | undefined;
  try {
    mkdirSync(tmp);
    for (const [name, content] of Object.entries(files)) {
      const chunks = typeof content === 'string' ? [Buffer.from(content, 'utf8')] : Buffer.isBuffer(content) ? [content] : (content as ChunkedBytes).chunks();
      mkdirSync(dirname(join(tmp, name)), { recursive: true });
      manifest.files[name] = writeSynced(join(tmp, name), chunks);
    }
    writeSynced(join(tmp, MANIFEST_NAME), [Buffer.from(JSON.stringify(manifest, null, 2) + '\n')]);
    syncDir(tmp);
    opts.beforeCommit?.(tmp);
    // rename() cannot replace a non-empty directory, so move the old one aside first.
    if (existsSync(dir)) renameSync(dir, (aside = `${dir}.old-${tag}`));
    renameSync(tmp, dir);
    syncDir(dirname(dir));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (aside && !existsSync(dir)) renameSync(aside, dir); // put the previous checkpoint back
    throw e;
  }
  if (aside) rmSync(aside, { recursive: true, force: true });
}

/**
 * Checks every file of a checkpoint directory against its manifest (sizes, then sha256
 * read chunk by chunk: a file of any size) and returns their names; readers then read what
 * they need (safetensors tensor by tensor).
 * @throws BonsaiError "checkpoint <dir> is corrupt or truncated: <file> …"
 */
export function verifyCheckpointDir(dir: string): Set<string> {
  if (!existsSync(dir)) throw new BonsaiError(`checkpoint ${dir} does not exist`);
  const corrupt = (what: string) =>
    new BonsaiError(`checkpoint ${dir} is corrupt or truncated: ${what}`, { hint: 'use an earlier checkpoint, or start again without resuming' });
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST_NAME), 'utf8')) as Manifest;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw corrupt(missing ? `${MANIFEST_NAME} is missing` : `${MANIFEST_NAME} is unreadable (${(e as Error).message})`);
  }
  if (manifest?.format !== MANIFEST_FORMAT || typeof manifest.files !== 'object' || manifest.files === null) {
    throw corrupt(`${MANIFEST_NAME} is not a ${MANIFEST_FORMAT} manifest`);
  }
  const out = new Set<string>();
  for (const [name, want] of Object.entries(manifest.files)) {
    checkName(name, dir);
    let got: { bytes: number; sha256: string };
    try {
      got = hashFile(join(dir, name), want.bytes);
    } catch (e) {
      throw corrupt((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${name} is missing` : `${name} is unreadable (${(e as Error).message})`);
    }
    if (got.bytes !== want.bytes) throw corrupt(`${name} is ${got.bytes} bytes, the manifest says ${want.bytes}`);
    if (got.sha256 !== want.sha256) throw corrupt(`${name} does not match its sha256 in the manifest (its contents changed after writing)`);
    out.add(name);
  }
  return out;
}

/** Reads every file of a checkpoint directory, verified against its manifest (small checkpoints: each file whole). */
export function readCheckpointDir(dir: string): Record<string, Buffer> {
  return Object.fromEntries([...verifyCheckpointDir(dir)].map((name) => [name, readFileSync(join(dir, name))]));
}

const HASH_CHUNK = 1 << 24;

/** A file's size and sha256, read in chunks; the hash only when the size is `expect` (a wrong size is reported as such). */
function hashFile(path: string, expect: number): { bytes: number; sha256: string } {
  const fd = openSync(path, 'r');
  try {
    const bytes = fstatSync(fd).size;
    if (bytes !== expect) return { bytes, sha256: '' };
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(HASH_CHUNK, Math.max(1, bytes)));
    for (let at = 0; at < bytes; ) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, bytes - at), at);
      if (got === 0) break;
      h.update(buf.subarray(0, got));
      at += got;
    }
    return { bytes, sha256: h.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/**
 * Checkpoints under `outDir` (folders named `step-00000100`), oldest first. Folders still
 * being written (`.tmp-*`) are skipped; one left aside by a crash mid-replace (`.old-*`)
 * stands in for its step when the step's own folder is missing.
 */
export function listCheckpoints(outDir: string): CheckpointEntry[] {
  if (!existsSync(outDir)) return [];
  const byStep = new Map<number, string>();
  const names = readdirSync(outDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const name of names) {
    const m = STEP_DIR.exec(name);
    if (m) byStep.set(Number(m[1]), join(outDir, name));
  }
  for (const name of names) {
    const m = SIDE_DIR.exec(name);
    const step = m && m[2] === 'old' ? Number(m[1]!.slice('step-'.length)) : undefined;
    if (step !== undefined && !byStep.has(step)) byStep.set(step, join(outDir, name));
  }
  return [...byStep].sort((a, b) => a[0] - b[0]).map(([step, dir]) => ({ step, dir }));
}

/**
 * Deletes all but the newest `keep` checkpoints, plus leftovers of crashed writes: `.tmp-*`
 * folders of processes no longer running and `.old-*` folders already replaced.
 * @returns the folders removed
 */
export function pruneCheckpoints(outDir: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 0) throw new BonsaiError(`checkpoint keep must be a whole number ≥ 0, got ${keep}`);
  const all = listCheckpoints(outDir);
  const keepDirs = new Set(all.slice(Math.max(0, all.length - keep)).map((c) => c.dir));
  const removed = all.filter((c) => !keepDirs.has(c.dir)).map((c) => c.dir);
  if (existsSync(outDir)) {
    for (const name of readdirSync(outDir)) {
      const m = SIDE_DIR.exec(name);
      if (!m) continue;
      // An .old-* folder whose step folder is missing is a listed checkpoint, handled above.
      const leftover = m[2] === 'tmp' ? !isRunning(Number(m[3])) : existsSync(join(outDir, m[1]!));
      if (leftover) removed.push(join(outDir, name));
    }
  }
  for (const d of removed) rmSync(d, { recursive: true, force: true });
  return removed;
}

function checkName(name: string, dir: string): void {
  const parts = name.split('/');
  if (!name || name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new BonsaiError(`checkpoint file name ${JSON.stringify(name)} must be a plain relative path`, { where: dir });
  }
}

/** Writes the chunks, fsyncs, and returns the size and sha256 of what was written. */
function writeSynced(path: string, chunks: Iterable<Uint8Array>): { bytes: number; sha256: string } {
  const fd = openSync(path, 'w');
  const h = createHash('sha256');
  let bytes = 0;
  try {
    for (const c of chunks) {
      writeAll(fd, c);
      h.update(c);
      bytes += c.byteLength;
    }
    fsyncSync(fd); // the rename must not reach disk before the data does
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}

function syncDir(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  }
}

/** Our own pid counts as finished: writes are synchronous, so none of ours is in flight. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
