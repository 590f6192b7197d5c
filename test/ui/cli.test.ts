import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tempDir, writeTinyRecipe } from '../helpers/recipes.ts';
import { startUi } from './page.ts';
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

describe('from `bonsai train` to the page', () => {
  it('train prints the ui command for its run; that command prints a URL with the run picked', async () => {
    const dir = tempDir();
    const r = bonsai(['train', writeTinyRecipe(dir, { steps: 2 })]);
    expect(r.code).toBe(0);
    const line = /^compare: (bonsai ui .*)  \(then open the URL it prints\)$/m.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    const runId = /tracking: run ([0-9a-f]{32})/.exec(r.stdout)![1]!;
    expect(line![1]).toBe(`bonsai ui --store ${join(dir, 'mlruns')} --run ${runId.slice(0, 8)}`);
    const ui = await startUi(line![1]!.split(' ').slice(2));
    try {
      expect(ui.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/\\?runs=${runId}$`));
    } finally {
      ui.child.kill('SIGTERM');
    }
  }, 60_000);

  it('an unknown --run or a bad --diff report is a clear error before anything listens', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'mlruns'));
    const run = bonsai(['ui', '--store', join(dir, 'mlruns'), '--run', 'nope', '--port', '0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: no run matches "nope"/);
    writeFileSync(join(dir, 'bad.json'), '{"format": "bonsai.diff/1"}');
    const diff = bonsai(['ui', '--store', join(dir, 'mlruns'), '--diff', join(dir, 'bad.json'), '--port', '0']);
    expect(diff.code).toBe(1);
    expect(diff.stderr).toMatch(/^error: .*bad\.json: a: /);
    expect(hasStackTrace(run.stderr + diff.stderr)).toBe(false);
  });
});
