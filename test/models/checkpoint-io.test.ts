import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { listCheckpoints, pruneCheckpoints, readCheckpointDir, writeCheckpointDir } from '../../src/models/checkpoint-io.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bonsai-ckpt-'));
const step = (n: number) => `step-${String(n).padStart(8, '0')}`;
const asText = (files: Record<string, Buffer>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.toString()]));

describe('checkpoint directories', () => {
  it('writes files with a manifest and reads them back verified', () => {
    const dir = join(tmp(), 'out', step(100));
    writeCheckpointDir(dir, { 'model.safetensors': Buffer.from([1, 2, 3]), 'config.json': '{"a":1}', 'probes/p.json': 'x' });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.files['model.safetensors']).toEqual({
      bytes: 3,
      sha256: '039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81',
    });
    expect(asText(readCheckpointDir(dir))).toEqual({ 'model.safetensors': '\u0001\u0002\u0003', 'config.json': '{"a":1}', 'probes/p.json': 'x' });
  });

  it('a crash mid-write leaves the previous checkpoint intact and no temp folder behind', () => {
    const out = tmp();
    const dir = join(out, step(100));
    writeCheckpointDir(dir, { 'w.bin': 'old' });
    const crash = () => {
      throw new Error('simulated crash');
    };
    expect(() => writeCheckpointDir(dir, { 'w.bin': 'new', 'extra.bin': 'e' }, { beforeCommit: crash })).toThrow('simulated crash');
    expect(asText(readCheckpointDir(dir))).toEqual({ 'w.bin': 'old' });
    expect(() => writeCheckpointDir(join(out, step(200)), { 'w.bin': 'x' }, { beforeCommit: crash })).toThrow();
    expect(readdirSync(out)).toEqual([step(100)]);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([100]);
  });

  it('replaces an existing checkpoint completely', () => {
    const out = tmp();
    const dir = join(out, step(1));
    writeCheckpointDir(dir, { 'a.bin': 'one', 'gone.bin': 'g' });
    writeCheckpointDir(dir, { 'a.bin': 'two' });
    expect(asText(readCheckpointDir(dir))).toEqual({ 'a.bin': 'two' });
    expect(existsSync(join(dir, 'gone.bin'))).toBe(false);
    expect(readdirSync(out)).toEqual([step(1)]);
  });

  it('detects a corrupted byte, a truncated file, a missing file and a missing manifest', () => {
    const dir = join(tmp(), step(5));
    writeCheckpointDir(dir, { 'model.safetensors': Buffer.alloc(64, 7), 'state.json': '{"step":5}' });
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    bytes[10] = 8;
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    expect(() => readCheckpointDir(dir)).toThrow(BonsaiError);
    expect(() => readCheckpointDir(dir)).toThrow(/is corrupt or truncated: model\.safetensors does not match its sha256/);
    truncateSync(join(dir, 'model.safetensors'), 40);
    expect(() => readCheckpointDir(dir)).toThrow(/model\.safetensors is 40 bytes, the manifest says 64/);
    writeFileSync(join(dir, 'manifest.json'), '{"format":"bonsai-manifest-1","files":{"nope.bin":{"bytes":1,"sha256":"x"}}}');
    expect(() => readCheckpointDir(dir)).toThrow(new RegExp(`checkpoint ${dir} is corrupt or truncated: nope\\.bin is missing`));
    writeFileSync(join(dir, 'manifest.json'), '{"files":');
    expect(() => readCheckpointDir(dir)).toThrow(/manifest\.json is unreadable/);
    expect(() => readCheckpointDir(join(dir, 'nowhere'))).toThrow(/does not exist/);
  });

  it('lists by step, skipping temp folders and recovering a folder left aside mid-replace', () => {
    const out = tmp();
    for (const s of [1000, 20, 300]) writeCheckpointDir(join(out, step(s)), { 'w.bin': String(s) });
    mkdirSync(join(out, `${step(400)}.tmp-999999999-abcd`));
    mkdirSync(join(out, 'not-a-checkpoint'));
    writeCheckpointDir(join(out, `${step(50)}.old-1-ab12`), { 'w.bin': '50' }); // crash between the two renames
    expect(listCheckpoints(out)).toEqual([
      { step: 20, dir: join(out, step(20)) },
      { step: 50, dir: join(out, `${step(50)}.old-1-ab12`) },
      { step: 300, dir: join(out, step(300)) },
      { step: 1000, dir: join(out, step(1000)) },
    ]);
    expect(listCheckpoints(join(out, 'missing'))).toEqual([]);
  });

  it('prunes to the newest `keep` and cleans leftovers of dead writers', () => {
    const out = tmp();
    for (const s of [1, 2, 3, 4]) writeCheckpointDir(join(out, step(s)), { 'w.bin': String(s) });
    mkdirSync(join(out, `${step(5)}.tmp-999999999-abcd`)); // a writer that died
    const live = `${step(6)}.tmp-${process.ppid}-abcd`; // a writer still running (our parent process)
    mkdirSync(join(out, live));
    mkdirSync(join(out, `${step(4)}.old-7-ef`)); // already replaced
    pruneCheckpoints(out, 2);
    expect(readdirSync(out).sort()).toEqual([step(3), step(4), live].sort());
    expect(() => pruneCheckpoints(out, -1)).toThrow(BonsaiError);
  });

  it('refuses unsafe file names', () => {
    const dir = join(tmp(), step(1));
    for (const name of ['../escape', '/abs', 'a//b', 'manifest.json', '']) {
      expect(() => writeCheckpointDir(dir, { [name]: 'x' })).toThrow(BonsaiError);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
