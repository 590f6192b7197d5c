import type { BackendResult, BenchConfig } from './config.ts';

/** What bench/torch_reference.py prints (or why it did not run). */
export interface TorchResult {
  skipped?: string;
  torch?: string;
  threads?: number;
  blas?: string;
  stepMs?: number[];
  stepMsMedian?: number;
  stepMsMin?: number;
  stepMsTrimmed?: number;
  cpuMsMedian?: number;
  /** Peak resident memory of the PyTorch process (bytes). */
  rssMax?: number;
  tokensPerSec?: number;
  loss?: number;
}

const mb = (n?: number) => (n === undefined ? '-' : `${(n / 2 ** 20).toFixed(1)} MB`);
const pad = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
const times = (x: number) => `${x.toFixed(2)}x`;

/**
 * bonsai ÷ PyTorch in tokens/s (the same tokens per step on both sides), two ways: from each
 * side's fastest step, and from each side's trimmed mean (config.ts trimmedMean). Never from
 * one median: PyTorch's own steps spread 2-4x within a run on a shared machine.
 */
export function ratios(b: { stepMsMin?: number; stepMsTrimmed?: number }, t: TorchResult): { fastest: number; trimmed: number } {
  return { fastest: t.stepMsMin! / b.stepMsMin!, trimmed: t.stepMsTrimmed! / b.stepMsTrimmed! };
}

/** The side-by-side table: one row per backend, then PyTorch; a ratio column per PyTorch run. */
export function printTable(results: BackendResult[], torches: TorchResult[], cpuCfg: BenchConfig): void {
  const ran = torches.filter((t) => !t.skipped);
  const ratioHeads = ran.length ? ran.map((t) => `÷ PyTorch ${t.blas} (fastest / trimmed)`) : ['÷ PyTorch'];
  const dashes = ratioHeads.map(() => '-');
  const head = ['backend', 'threads', 'products', 'tokens/s', 'step ms (trimmed / min)', 'CPU ms/step', ...ratioHeads, 'peak tensors in step', 'peak RSS', 'tensors +/step'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.backend, '-', '-', 'skipped', '-', '-', ...dashes, '-', '-', '-']);
      continue;
    }
    const cells = ran.length ? ran.map((t) => ratios(r, t)).map((q) => `${times(q.fastest)} / ${times(q.trimmed)}`) : dashes;
    const growth = r.tensorGrowth!.every((d) => d === 0) ? '0' : `LEAK ${Math.max(...r.tensorGrowth!)}`;
    const note = r.backend === 'cpu' ? ` (${cpuCfg.steps} steps)` : r.adapter?.startsWith('software') ? ` (${r.steps} steps)` : '';
    rows.push([
      r.backend + (r.adapter ? ` [${r.adapter}]` : '') + note, String(r.threads ?? '-'), r.products ?? '-', r.tokensPerSec!.toFixed(0),
      `${r.stepMsTrimmed!.toFixed(1)} / ${r.stepMsMin!.toFixed(1)}`, r.cpuMsMedian!.toFixed(1), ...cells,
      mb(r.peakBytesInStep), mb(r.rssMax), growth,
    ]);
  }
  for (const t of torches) {
    if (t.skipped) rows.push(['pytorch', '-', '-', 'skipped', '-', '-', ...dashes, '-', '-', '-']);
    else rows.push([`pytorch ${t.torch}`, String(t.threads), t.blas!, t.tokensPerSec!.toFixed(0),
      `${t.stepMsTrimmed!.toFixed(1)} / ${t.stepMsMin!.toFixed(1)}`, t.cpuMsMedian!.toFixed(1),
      ...ran.map((o) => (o === t ? '1.00x' : '-')), '-', mb(t.rssMax), '-']);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log('\n' + pad(head, widths));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(pad(r, widths));
  console.log('  tokens/s and "trimmed": the mean of the middle 60% of the timed steps; "fastest": each side\'s fastest step. Peak RSS is the whole process (PyTorch: its own).');
  if (ran.length === 1 && ran[0]!.blas !== 'OpenBLAS') {
    console.log('  note: PyTorch ran only with the reference BLAS; install libopenblas0-pthread for the fair comparison.');
  }
}

/** Forward / backward / optimizer split and the top kernels of one step. */
export function printBreakdown(r: BackendResult): void {
  const b = r.breakdown!;
  const total = b.forwardMs + b.backwardMs + b.optimizerMs;
  const pct = (x: number) => `${((100 * x) / total).toFixed(0)}%`;
  console.log(`\nwhere a ${r.backend} step goes (medians of 10, timed apart):`);
  console.log(`  forward ${b.forwardMs.toFixed(1)} ms (${pct(b.forwardMs)}), backward ${b.backwardMs.toFixed(1)} ms (${pct(b.backwardMs)}), ` +
    `optimizer ${b.optimizerMs.toFixed(1)} ms (${pct(b.optimizerMs)})`);
  const kernelTotal = b.kernels.reduce((s, k) => s + k.ms, 0);
  console.log(`  kernels of one profiled step (${kernelTotal.toFixed(1)} ms in ${b.kernels.reduce((s, k) => s + k.calls, 0)} calls; profiling adds overhead):`);
  for (const k of b.kernels.slice(0, 12)) {
    console.log(`    ${k.name.padEnd(24)} ${k.ms.toFixed(1).padStart(7)} ms  ${String(k.calls).padStart(4)} calls  ${((100 * k.ms) / kernelTotal).toFixed(0).padStart(3)}%`);
  }
}
