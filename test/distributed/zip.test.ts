import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, writeZip } from '../../src/distributed/zip.ts';
import { tempDir } from '../helpers/recipes.ts';

const HAS_UNZIP = spawnSync('unzip', ['-v']).status === 0;

describe('deterministic zip', () => {
  it('computes the IEEE CRC-32 zip stores', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });

  it('gives the same bytes for the same files in any order, and other bytes for other content', () => {
    const a = { name: 'b/x.txt', data: Buffer.from('hello '.repeat(50)) };
    const b = { name: 'a.bin', data: Buffer.from([1, 2, 3]) };
    const one = writeZip([a, b]);
    expect(writeZip([b, a]).equals(one)).toBe(true);
    expect(writeZip([b, { ...a, data: Buffer.from('hello '.repeat(51)) }]).equals(one)).toBe(false);
    // Entries sorted by name, times fixed at 1980-01-01 00:00 (DOS date 0x21, time 0).
    expect(one.subarray(30, 35).toString()).toBe('a.bin');
    expect(one.readUInt16LE(10)).toBe(0);
    expect(one.readUInt16LE(12)).toBe(0x21);
  });

  it.skipIf(!HAS_UNZIP)('is read back by unzip: deflated and stored entries, UTF-8 names, mode bits', () => {
    const dir = tempDir('bonsai-zip-');
    const text = Buffer.from('the cat sat on the mat\n'.repeat(200));
    const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256));
    const zip = writeZip([
      { name: 'data/corpus.txt', data: text },
      { name: 'bin/run.sh', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { name: 'noise.bin', data: random },
      { name: 'recipes/été.yaml', data: Buffer.from('run: {}\n') },
      { name: 'empty', data: Buffer.alloc(0) },
    ]);
    const file = join(dir, 'p.zip');
    writeFileSync(file, zip);
    const test = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(spawnSync('unzip', ['-p', file, 'data/corpus.txt']).stdout.equals(text)).toBe(true);
    expect(spawnSync('unzip', ['-p', file, 'noise.bin']).stdout.equals(random)).toBe(true);
    const listing = spawnSync('unzip', ['-Z', file], { encoding: 'utf8' }).stdout;
    expect(listing).toMatch(/-rwxr-xr-x.*bin\/run\.sh/);
    expect(listing).toMatch(/defN.*data\/corpus\.txt/); // compressible: deflated
    expect(listing).toMatch(/stor.*noise\.bin/); // incompressible: stored
    expect(listing).toContain('recipes/été.yaml');
    // The text deflates: the archive is far smaller than its content.
    expect(zip.length).toBeLessThan(text.length / 5);
  });
});
