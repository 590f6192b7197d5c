/**
 * Bench rows (a) and (e): LoRA training on a SmolLM2-135M shape (or, `--shape qwen`, a
 * Qwen2.5-0.5B shape), bonsai beside PyTorch.
 *
 *   node bin/run-ts.js bench/lora-row.ts [--steps 1] [--warmup 1] [--layers 30] [--recompute 0,1] [--threads 1] [--shape smollm2|qwen]
 *
 * bonsai: bench/lora-step.ts, one process per `memory.recompute` setting (the wasm heap is a
 * high-water mark per process). PyTorch: bench/torch_reference.py in mode "lora" (the same
 * shape from the Llama definition, PEFT-style adapters), OpenBLAS where installed, as many
 * threads as wasm uses (1). Prints a table with tokens/s, peak memory and the ratios.
 * `npm run bench` runs this after rows (b); a step takes minutes on one CPU thread.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROW_A } from './lora-shape.ts';
import { addSummaryRow, loadavg, ratio, seconds } from './summary.ts';
import { runTorchReference } from './torch-side.ts';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const steps = arg('steps', '1');
const warmup = arg('warmup', '1');
const layers = arg('layers', '30');
const settings = arg('recompute', '0,1').split(',');
const threads = arg('threads', '1');
const shape = arg('shape', 'smollm2');
const layersArg = process.argv.includes('--layers') ? ['--layers', layers] : [];

interface BonsaiRow {
  /** Set when the step did not complete (e.g. out of memory, with the heap it reached). */
  failed?: string;
  heapAtFailureMB?: number;
  /** Set when bonsai's pre-step check refused the step: its message (why, and what fits). */
  refused?: string;
  recompute: boolean; threads: number; stepMsMedian: number; stepMsMin: number; stepMsTrimmed: number; cpuMsMin: number; tokensPerSec: number; measuredPeakMB: number; estimateMB: number;
  estimateOverMeasured: number; trainable: number; params: number; losses: number[]; tensorGrowth: number[];
}
interface TorchRow { stepMsMedian: number; stepMsMin: number; stepMsTrimmed: number; cpuMsMin: number; tokensPerSec: number; peakRssGrowthMB: number; blas: string; threads: number; torch: string; trainable: number; params: number }

console.log(`row (${shape === 'qwen' ? 'e' : 'a'}): LoRA r=16 (alpha 32) on every linear layer of a ${shape === 'qwen' ? 'Qwen2.5-0.5B' : 'SmolLM2-135M'} shape${layersArg.length ? ` (${layers} layers)` : ''}, batch 2 × 256, AdamW on the adapters; ` +
  `${warmup} warm-up + ${steps} timed step(s) per setting; ${threads} thread(s) on both sides; load ${loadavg()} on ${os.availableParallelism()} cores`);

const bonsai = new Map<string, BonsaiRow | string>();
for (const r of settings) {
  const argv = [resolve(here, '..', 'bin', 'run-ts.js'), join(here, 'lora-step.ts'), '--recompute', r, '--steps', steps, '--warmup', warmup, '--threads', threads, '--shape', shape, ...layersArg];
  const p = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = p.stdout?.split('\n').find((l) => l.startsWith('LORA_STEP '));
  const why = (p.stderr ?? '').split('\n').filter((l) => l && !l.startsWith('var Module') && !/^\s*\^/.test(l)).slice(-4).join(' | ').slice(0, 300);
  const row = line ? (JSON.parse(line.slice('LORA_STEP '.length)) as BonsaiRow) : undefined;
  const outcome = row?.refused ? `refused before the first step by the pre-step check (estimate ${row.estimateMB.toFixed(0)} MB)` : row?.failed ? `${row.failed}; bonsai's pre-step estimate: ${row.estimateMB.toFixed(0)} MB` : undefined;
  bonsai.set(r, row && !outcome ? row : outcome ?? `failed (exit ${p.status}): ${why}`);
  console.log(`  bonsai wasm, recompute ${r === '1'}: ${row && !outcome ? 'done' : outcome ?? 'failed'} (load ${loadavg()})`);
  if (row?.refused) console.log(`  the check's message:\n    ${row.refused.replace(/\n/g, '\n    ')}`);
}
const torch = runTorch();
console.log(`  pytorch: ${typeof torch === 'string' ? torch : 'done'} (load ${loadavg()})\n`);

const ROW_TOKENS = ROW_A.batchSize * ROW_A.seqLen;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log('| side | memory.recompute | step (trimmed mean / fastest) | CPU per step (fastest) | train tokens/s (trimmed mean) | peak memory | measured as | bonsai estimate (÷ measured) |');
console.log('|---|---|---:|---:|---:|---:|---|---:|');
const tokS = (ms: number) => ((ROW_TOKENS * 1000) / ms).toFixed(1);
for (const [r, b] of bonsai) {
  if (typeof b === 'string') console.log(`| bonsai (wasm, ${threads} thread(s)) | ${r === '1'} | | | | | ${b} | |`);
  else console.log(`| bonsai (wasm, ${b.threads} thread(s)) | ${b.recompute} | ${sec(b.stepMsTrimmed)} / ${sec(b.stepMsMin)} | ${sec(b.cpuMsMin)} | ${tokS(b.stepMsTrimmed)} | ${b.measuredPeakMB.toFixed(0)} MB | wasm heap growth (high-water mark) | ${b.estimateMB.toFixed(0)} MB (${b.estimateOverMeasured.toFixed(2)}) |`);
}
if (typeof torch === 'string') console.log(`| PyTorch | | | | | | ${torch} | |`);
else console.log(`| PyTorch ${torch.torch} (${torch.blas}, ${torch.threads} thread${torch.threads > 1 ? 's' : ''}) | false | ${sec(torch.stepMsTrimmed)} / ${sec(torch.stepMsMin)} | ${sec(torch.cpuMsMin)} | ${tokS(torch.stepMsTrimmed)} | ${torch.peakRssGrowthMB.toFixed(0)} MB | max RSS growth (getrusage) | |`);
if (typeof torch !== 'string') {
  for (const [r, b] of bonsai) {
    if (typeof b === 'string') continue;
    console.log(`\nrecompute ${b.recompute}: bonsai ÷ PyTorch in speed: ${ratio(torch.stepMsMin, b.stepMsMin)} (fastest steps), ${ratio(torch.stepMsTrimmed, b.stepMsTrimmed)} (trimmed means), ${ratio(torch.cpuMsMin, b.cpuMsMin)} (CPU per step); peak memory ${(b.measuredPeakMB / torch.peakRssGrowthMB).toFixed(2)}× ` +
      `(trainable ${b.trainable.toLocaleString('en-US')} vs ${torch.trainable.toLocaleString('en-US')}; parameters ${b.params.toLocaleString('en-US')} vs ${torch.params.toLocaleString('en-US')})`);
  }
}
// The closing summary of npm run bench (bench/summary.ts): one line per setting.
const label = `(${shape === 'qwen' ? 'e' : 'a'}) LoRA step, ${shape === 'qwen' ? 'Qwen2.5-0.5B' : 'SmolLM2-135M'} shape${layersArg.length ? ` (${layers} layers)` : ''}`;
const torchCell = typeof torch === 'string' ? torch : `${seconds(torch.stepMsTrimmed)} / ${seconds(torch.stepMsMin)}, ${tokS(torch.stepMsTrimmed)} tokens/s`;
for (const [r, b] of bonsai) {
  const row = `${label}, recompute ${r === '1'}`;
  const torchMB = typeof torch === 'string' ? '-' : `${torch.peakRssGrowthMB.toFixed(0)} MB (RSS growth)`;
  if (typeof b === 'string') addSummaryRow({ row, bonsai: b, pytorch: torchCell, ratio: '-', threads: `${threads} / ${typeof torch === 'string' ? '-' : torch.threads}`, peak: `- / ${torchMB}` });
  else addSummaryRow({
    row, bonsai: `${seconds(b.stepMsTrimmed)} / ${seconds(b.stepMsMin)}, ${tokS(b.stepMsTrimmed)} tokens/s`, pytorch: torchCell,
    ratio: typeof torch === 'string' ? '-' : `${ratio(torch.stepMsMin, b.stepMsMin)} / ${ratio(torch.stepMsTrimmed, b.stepMsTrimmed)} (CPU time: ${ratio(torch.cpuMsMin, b.cpuMsMin)})`,
    threads: `${b.threads} / ${typeof torch === 'string' ? '-' : torch.threads}`, peak: `${b.measuredPeakMB.toFixed(0)} MB (wasm heap) / ${torchMB}`,
  });
}

const heapMax = 2 ** 32 / 1e6;
const fits = [...bonsai.values()].filter((b): b is BonsaiRow => typeof b !== 'string');
console.log(`\ngoal "the LoRA step fits in wasm memory" (heap maximum ${heapMax.toFixed(0)} MB): ` +
  (fits.length ? fits.map((b) => `recompute ${b.recompute}: ${b.measuredPeakMB <= heapMax ? 'fits' : 'does not fit'} (${b.measuredPeakMB.toFixed(0)} MB)`).join('; ') : 'no setting ran') +
  [...bonsai].filter(([, b]) => typeof b === 'string').map(([r, b]) => `; recompute ${r === '1'}: ${String(b).startsWith('refused') ? 'refused by the pre-step check' : 'failed'}`).join(''));
if (fits.some((b) => b.tensorGrowth.some((d) => d !== 0))) {
  console.error('FAIL: tensors leak per step in row (a)');
  process.exitCode = 1;
}

/** bench/torch_reference.py in mode "lora" (bench/torch-side.ts: OpenBLAS where Debian has it). */
function runTorch(): TorchRow | string {
  return runTorchReference<TorchRow>({ mode: 'lora', shape, ...(layersArg.length ? { nLayers: Number(layers) } : {}), warmup: Number(warmup), steps: Number(steps), threads: Number(threads) });
}
