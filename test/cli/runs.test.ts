import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { storeWithJunk } from '../tracking/store/fixtures.ts';

describe('bonsai runs', () => {
  it('list shows every run and lists unreadable folders with their reason', async () => {
    const { root, a, b } = await storeWithJunk();
    const r = bonsai(['runs', 'list', '--store', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED \(UTC\)\s+TIME\s+LOSS$/);
    expect(r.stdout).toMatch(new RegExp(`^${b.slice(0, 8)}  beta   exp +FINISHED .* 2.5$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${a.slice(0, 8)}  alpha  exp +FINISHED .* 1.5$`, 'm'));
    expect(r.stdout).toMatch(/\nunreadable \(3\):\n {2}1\/f{32}: meta.yaml says run_id \"0\" but the folder is f{32}\n {2}7: meta.yaml is not valid YAML: .+\n {2}junk: no meta.yaml\n$/);
  });

  it('show prints params, final metrics and tags of a run named by an id prefix', async () => {
    const { root, a } = await storeWithJunk();
    // Each spawn costs seconds: naming by full id and by name is covered by resolveRun's tests.
    const r = bonsai(['runs', 'show', a.slice(0, 6), '--store', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`run         ${a}`);
    expect(r.stdout).toMatch(/^lr {5}0\.01$/m);
    expect(r.stdout).toMatch(/^loss {7}1\.5 {4}2$/m);
    expect(r.stdout).toMatch(/^mlflow\.runName +alpha$/m);
  });

  it('compare shows only the params that differ, and the final metrics side by side', async () => {
    const { root, a, b } = await storeWithJunk();
    const r = bonsai(['runs', 'compare', 'alpha', 'beta', '--store', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'params that differ\n' +
      `PARAM  alpha ${a.slice(0, 8)}  beta ${b.slice(0, 8)}\n` +
      '-----  --------------  -------------\n' +
      'lr     0.01            0.02\n\n' +
      'final metrics\n' +
      `METRIC     alpha ${a.slice(0, 8)}  beta ${b.slice(0, 8)}\n` +
      '---------  --------------  -------------\n' +
      'loss       1.5             2.5\n' +
      'train/acc  0.2             0.1\n',
    );
  });

  it('an unknown or ambiguous run is a clear error listing candidates, never a stack', async () => {
    const { root } = await storeWithJunk();
    const r = bonsai(['runs', 'show', 'alp', '--store', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no run matches "alp"; runs with similar names:\n {2}\w{8} {2}alpha {2}\[exp\]/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('push is dispatched to the push command', () => {
    const r = bonsai(['runs', 'push', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: bonsai runs push RUN_DIR/);
  });
});
