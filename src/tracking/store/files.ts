/** Reading the pieces of MLflow's file layout: meta.yaml, key folders, status numbers. */
import { promises as fsp } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import type { RunStatus } from './types.ts';

const STATUS: Record<number, RunStatus> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };

/** A folder's meta.yaml as a mapping; throws a one-line reason when it is missing or malformed. */
export async function readMeta(dir: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fsp.readFile(join(dir, 'meta.yaml'), 'utf8');
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no meta.yaml' : `cannot read meta.yaml: ${(e as Error).message}`);
  }
  let meta: unknown;
  try {
    meta = YAML.parse(text, { version: '1.1' });
  } catch (e) {
    throw new Error(`meta.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new Error('meta.yaml is not a mapping');
  return meta as Record<string, unknown>;
}

/** MLflow's status: a number in meta.yaml (1 RUNNING … 5 KILLED), a name elsewhere. */
export function statusName(s: unknown): RunStatus {
  if (typeof s === 'number') return STATUS[s] ?? 'UNKNOWN';
  const name = String(s).toUpperCase();
  return (Object.values(STATUS) as string[]).includes(name) ? (name as RunStatus) : 'UNKNOWN';
}

/** Keys under a params/tags/metrics folder; '/' in a key is a sub-folder. A missing folder has none. */
export async function listKeys(dir: string): Promise<string[]> {
  const files = await fsp.readdir(dir, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  return files.filter((f) => f.isFile()).map((f) => relative(dir, join(f.parentPath, f.name)).split('\\').join('/')).sort();
}

/** Every key's value under a params or tags folder. */
export async function readValues(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await listKeys(dir)) out[key] = await fsp.readFile(join(dir, key), 'utf8');
  return out;
}
