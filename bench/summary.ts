/**
 * The closing summary of `npm run bench`: one line per row (the reference shape per backend,
 * (a), (e), (d)) in the columns of docs/results/speed.md, as a markdown table to paste there.
 * Each row script appends its lines to the file named by BONSAI_BENCH_SUMMARY (bench/run.ts
 * sets it; run alone, a row script prints only its own table).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface SummaryRow {
  row: string;
  /** bonsai's step, e.g. "2.10 s trimmed / 1.95 s fastest, 243.8 tokens/s". */
  bonsai: string;
  pytorch: string;
  /** bonsai ÷ PyTorch in speed: "0.61× / 0.58×" (fastest steps / trimmed means). */
  ratio: string;
  /** "bonsai / PyTorch". */
  threads: string;
  /** "bonsai / PyTorch", each saying what was measured. */
  peak: string;
  /** The load average (1, 5, 15 min) when the row ended. */
  load: string;
}

/** The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them. */
export const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** "0.61×", or "-" when either side is missing. */
export const ratio = (torchMs: number | undefined, bonsaiMs: number | undefined): string =>
  torchMs && bonsaiMs ? `${(torchMs / bonsaiMs).toFixed(2)}×` : '-';

/** Adds a row to the running bench's summary (a no-op when no summary file is set). */
export function addSummaryRow(row: Omit<SummaryRow, 'load'>): void {
  const file = process.env.BONSAI_BENCH_SUMMARY;
  if (file) appendFileSync(file, JSON.stringify({ ...row, load: loadavg() }) + '\n');
}

/** Prints the summary file's rows as one markdown table. */
export function printSummary(file: string, heading: string): void {
  const rows = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as SummaryRow) : [];
  if (!rows.length) return;
  console.log(`\n${heading}\n`);
  console.log('| row | bonsai: step (trimmed mean / fastest) | PyTorch: the same | bonsai ÷ PyTorch (fastest / trimmed) | threads (bonsai / PyTorch) | peak memory (bonsai / PyTorch) | load average at the row’s end |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${[r.row, r.bonsai, r.pytorch, r.ratio, r.threads, r.peak, r.load].join(' | ')} |`);
}
