import type { BackendResult, BenchConfig } from './config.ts';

/** What bench/torch_reference.py prints (or why it did not run). */
export interface TorchResult {
  skipped?: string;
  torch?: string;
  threads?: number;
  blas?: string;
  stepMsMedian?: number;
  stepMsMin?: number;
  cpuMsMedian?: number;
  tokensPerSec?: number;
  loss?: number;
}

const mb = (n?: number) => (n === undefined ? '-' : `${(n / 2 ** 20).toFixed(1)} MB`);
const pad = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

/** The side-by-side table: one row per backend, then PyTorch; a ratio column per PyTorch run. */
export function printTable(results: BackendResult[], torches: TorchResult[], cpuCfg: BenchConfig): void {
  const ran = torches.filter((t) => !t.skipped);
  const ratioHeads = ran.length ? ran.map((t) => `÷ PyTorch (${t.blas})`) : ['÷ PyTorch'];
  const dashes = ratioHeads.map(() => '-');
  const head = ['backend', 'threads', 'tokens/s', 'step ms (median / min)', 'CPU ms/step', ...ratioHeads, 'tensor MB (between / peak in step)', 'RSS max', 'tensors +/step'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.backend, '-', 'skipped', '-', '-', ...dashes, '-', '-', '-']);
      continue;
    }
    const ratios = ran.length ? ran.map((t) => `${(r.tokensPerSec! / t.tokensPerSec!).toFixed(2)}x`) : dashes;
    const growth = r.tensorGrowth!.every((d) => d === 0) ? '0' : `LEAK ${Math.max(...r.tensorGrowth!)}`;
    const note = r.backend === 'cpu' ? ` (${cpuCfg.steps} steps)` : r.adapter?.startsWith('software') ? ` (${r.steps} steps)` : '';
    rows.push([
      r.backend + (r.adapter ? ` [${r.adapter}]` : '') + note, String(r.threads ?? '-'), r.tokensPerSec!.toFixed(0),
      `${r.stepMsMedian!.toFixed(1)} / ${r.stepMsMin!.toFixed(1)}`, r.cpuMsMedian!.toFixed(1), ...ratios,
      `${mb(r.tensorBytesMax)} / ${mb(r.peakBytesInStep)}`, mb(r.rssMax), growth,
    ]);
  }
  for (const t of torches) {
    if (t.skipped) rows.push(['pytorch', '-', 'skipped', '-', '-', ...dashes, '-', '-', '-']);
    else rows.push([`pytorch ${t.torch} (${t.blas})`, String(t.threads), t.tokensPerSec!.toFixed(0),
      `${t.stepMsMedian!.toFixed(1)} / ${t.stepMsMin!.toFixed(1)}`, t.cpuMsMedian!.toFixed(1),
      ...ran.map((o) => `${(t.tokensPerSec! / o.tokensPerSec!).toFixed(2)}x`), '-', '-', '-']);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log('\n' + pad(head, widths));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(pad(r, widths));
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
