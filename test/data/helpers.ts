import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Example } from '../../src/data/index.ts';

/** Writes `content` to a fresh temp file and returns its path. */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bonsai-data-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** n examples of length L+1 whose ids all equal their index, so batches show order. */
export function numbered(n: number, seqLen = 3): Example[] {
  return Array.from({ length: n }, (_, i) => ({
    ids: new Int32Array(seqLen + 1).fill(i),
    lossMask: new Uint8Array(seqLen + 1).fill(1, 1),
  }));
}
