import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalMlflowTracker } from '../../../src/tracking/index.ts';
import { tempDir } from '../../helpers/recipes.ts';

/** Writes a run with the real tracker; returns its id. */
export async function writeRun(root: string, name: string, params: Record<string, string>, losses: number[], opts: { experiment?: string; end?: boolean } = {}): Promise<string> {
  const t = new LocalMlflowTracker(root, { flushEveryMs: 60_000 });
  const { runId } = await t.startRun({ experiment: opts.experiment ?? 'exp', runName: name });
  await t.logParams(params);
  losses.forEach((loss, step) => t.logMetrics(step, { loss, 'train/acc': step / 10 }, 1_000 + step));
  await t.flush();
  if (opts.end !== false) await t.endRun('FINISHED');
  return runId;
}

/** A store with two good runs, and a junk folder, a broken experiment and a broken run. */
export async function storeWithJunk(): Promise<{ root: string; a: string; b: string }> {
  const root = join(tempDir(), 'mlruns');
  const a = await writeRun(root, 'alpha', { lr: '0.01', seed: '1' }, [3, 2, 1.5]);
  const b = await writeRun(root, 'beta', { lr: '0.02', seed: '1' }, [3, 2.5]);
  mkdirSync(join(root, 'junk'));
  writeFileSync(join(root, 'junk', 'notes.txt'), 'not an experiment');
  mkdirSync(join(root, '7'));
  writeFileSync(join(root, '7', 'meta.yaml'), 'name: [unclosed');
  writeFileSync(join(root, 'stray-file.txt'), 'files at the root are not experiments');
  const expId = '1';
  mkdirSync(join(root, expId, 'ffffffffffffffffffffffffffffffff'));
  writeFileSync(join(root, expId, 'ffffffffffffffffffffffffffffffff', 'meta.yaml'), 'run_id: 0000\nstatus: 3\n');
  return { root, a, b };
}
