/** Bad-input runs and a diff report for the ui tests, written with the real tracker. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalMlflowTracker } from '../../src/tracking/index.ts';

export const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">';
export const HOSTILE_PARAM = '<script>window.__pwned=2</script>';

/** A finished run whose name and a param value are HTML (to be shown as text), and one with 20 000 points of train/loss. */
export async function writeBadInputRuns(store: string): Promise<{ hostile: string; big: string }> {
  const t = new LocalMlflowTracker(store, { flushEveryMs: 60_000, systemMetricsMs: 0 });
  const { runId: hostile } = await t.startRun({ experiment: 'design', runName: HOSTILE_NAME });
  await t.logParams({ 'trainer.optimizer.lr': HOSTILE_PARAM });
  t.logMetrics(1, { 'train/loss': 3 });
  await t.endRun('FINISHED');
  const b = new LocalMlflowTracker(store, { flushEveryMs: 60_000, systemMetricsMs: 0 });
  const { runId: big } = await b.startRun({ experiment: 'design', runName: 'twenty-thousand-points' });
  for (let s = 1; s <= 20_000; s++) b.logMetrics(s, { 'train/loss': 3 / Math.sqrt(s) + (s === 12_345 ? 5 : 0) }, 1_700_000_000_000 + s);
  await b.endRun('FINISHED');
  mkdirSync(join(store, 'junk')); // a foreign folder: listed as unreadable, never a crash
  return { hostile, big };
}

/** A `bonsai.diff/1` report, with a token that is HTML and an extra field the page must ignore. */
export function writeDiffReport(file: string): void {
  const tok = (token: string, id: number, logit: number) => ({ token, id, logit });
  writeFileSync(file, JSON.stringify({
    format: 'bonsai.diff/1', tool_version: 'later',
    a: { path: 'runs/base/step-00000600', fingerprint: 'aaaaaaaaaaaaaaaa' }, b: { path: 'runs/rl/step-00000600', fingerprint: 'bbbbbbbbbbbbbbbb' },
    weights: {
      tensors: [{ path: 'blocks.1.mlp.W_out', rel_change: 0.12 }, { path: 'blocks.0.attn.W_Q', rel_change: 0 }],
      heads: [{ layer: 1, head: 0, rel_change: 0.08 }],
      neurons: [{ layer: 1, neuron: 17, rel_change: 0.5 }, { layer: 0, neuron: 3, rel_change: 0.2 }],
    },
    lens: [{ layer: 1, promoted: [tok(' unknown', 300, 2.5), tok('<b>bold</b>', 7, 1.1)], suppressed: [tok(' red', 9, -1.5)] }],
    probes: [{ name: 'halluc', auroc_a: 0.91, auroc_b: 0.62, mean_a: 0.7, mean_b: 0.2 }],
  }));
}
