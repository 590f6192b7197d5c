import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';
import { storeWithJunk } from '../tracking/store/fixtures.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js');

describe('bonsai ui command', () => {
  it('warns before serving on a non-loopback host, and stops cleanly on SIGTERM', async () => {
    const { root } = await storeWithJunk();
    const child = spawn(process.execPath, [BIN, 'ui', '--store', root, '--host', '0.0.0.0', '--port', '0']);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/http:\/\/0\.0\.0\.0:\d+\//.test(out)) resolve();
    }));
    expect(err).toMatch(/^warning: serving on 0\.0\.0\.0: anyone who can reach this machine can read these runs/);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });

  it('a missing store is a clear error before anything listens', () => {
    const r = bonsai(['ui', '--store', join(tempDir(), 'none'), '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot read the run store .*none: ENOENT\nhint: pass --store DIR/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
