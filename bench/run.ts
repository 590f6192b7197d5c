import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { physicalCores } from '../src/backend/threads.ts';
import { measure } from './child.ts';
import { GPT2_SMALL, parseArgs, REFERENCE, type BackendResult, type BenchConfig } from './config.ts';
import { ratios, printBreakdown, printTable, type TorchResult } from './report.ts';
import { addSummaryRow, loadavg, printSummary } from './summary.ts';

/**
 * `npm run bench`: trains the reference model (bench/config.ts) on every tfjs backend
 * that loads and with PyTorch (bench/torch_reference.py) on the same thread count, and
 * prints tokens/s side by side, bonsai ÷ PyTorch (from each side's fastest step and from a
 * trimmed mean: report.ts), the threads and peak memory of every row, the load average,
 * and where the default backend's time goes.
 *
 *   npm run bench -- [--steps 40] [--warmup 10] [--backends tensorflow-gpu,webgpu,tensorflow,wasm,wasm-xnnpack,cpu]
 *                    [--threads N]  (both sides; default: the physical cores, bonsai's default)
 *                    [--shape reference|gpt2-small]  (gpt2-small: for GPU backends)
 *                    [--rows ref,b,c,a,e,d]  (which rows, in this order; default all)
 *                    [--skip-lora]  (= --rows ref,b,c)   [--reference-only]  (= --rows ref)
 *
 * Rows: ref, the reference shape's SFT step on every backend (a few minutes in all); (b)
 * generation with and without the KV cache (bench/generate.ts); (c) a small RL step with and
 * without it (bench/rl_cache.ts); (a) a LoRA step on the SmolLM2-135M shape without
 * recomputation and (e) on a Qwen2.5-0.5B shape, with and without (bench/lora-row.ts); (d) one
 * RL step with LoRA on the SmolLM2 shape (bench/rl-lora.ts). (a), (e) and (d) run at real
 * size on both sides: together most of the bench's time (tens of minutes on 2 cores).
 * The run ends with one markdown table of every row (bench/summary.ts), for
 * docs/results/speed.md, and the bench's own duration.
 *
 * wasm-xnnpack is wasm with its products kept off the platform BLAS (BONSAI_BLAS=off), as
 * where none is installed. webgpu runs on whatever adapter Dawn offers; its row names the adapter, and a software
 * one (lavapipe) is labelled so and runs only a few steps.
 *
 * Each backend runs in its own process. Exits 1 if any step leaked tensors.
 */

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Debian's PyTorch multiplies through whichever libblas.so.3 the loader finds, and the
 * reference BLAS is several times slower than OpenBLAS. Where both are installed, the
 * reference model runs once against each (chosen per process by LD_LIBRARY_PATH), so the
 * ratio is never quoted against only the slow one.
 */
const BLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/blas', '/usr/lib/x86_64-linux-gnu/openblas-pthread'];
const args = parseArgs(process.argv.slice(2));

if (args.child) {
  // Child mode: one backend, one JSON line on stdout.
  const cfg = JSON.parse(args.config!) as BenchConfig;
  const result = await measure(args.child as never, args.threads ? Number(args.threads) : undefined, cfg, args.breakdown === 'true');
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (args.shape && args.shape !== 'reference' && args.shape !== 'gpt2-small') {
  console.error(`bench: --shape must be reference or gpt2-small, not "${args.shape}"`);
  process.exit(2);
}
const cfg: BenchConfig = {
  ...(args.shape === 'gpt2-small' ? GPT2_SMALL : REFERENCE),
  ...(args.steps ? { steps: Number(args.steps) } : {}),
  ...(args.warmup ? { warmup: Number(args.warmup) } : {}),
};
const ALL_ROWS = ['ref', 'b', 'c', 'a', 'e', 'd'];
const rows = args.rows ? args.rows.split(',') : args['reference-only'] ? ['ref'] : args['skip-lora'] ? ['ref', 'b', 'c'] : ALL_ROWS;
const unknownRows = rows.filter((r) => !ALL_ROWS.includes(r));
if (unknownRows.length) {
  console.error(`bench: --rows takes ${ALL_ROWS.join(',')} (any of them, comma-separated), not "${unknownRows.join(',')}"`);
  process.exit(2);
}
const backends = (args.backends ?? 'tensorflow-gpu,webgpu,tensorflow,wasm,wasm-xnnpack,cpu').split(',');
// tfjs-cpu is pure JS (~40x slower): fewer steps keep the bench short; its row says so.
const cpuCfg: BenchConfig = { ...cfg, warmup: Math.min(cfg.warmup, 2), steps: Math.min(cfg.steps, 5) };
// Both sides get the same threads: --threads, else bonsai's default (the physical cores).
const threads = args.threads ? Number(args.threads) : physicalCores();
const started = performance.now();
const summaryFile = join(mkdtempSync(join(os.tmpdir(), 'bonsai-bench-')), 'rows.jsonl');
process.env.BONSAI_BENCH_SUMMARY = summaryFile; // the row scripts (children) append their lines here
console.log(`bonsai bench, rows ${rows.join(', ')}; machine: ${os.availableParallelism()} CPUs (${physicalCores()} physical cores), ` +
  `load ${loadavg()} at the start (others' work skews timings; /proc/loadavg); ${threads} threads on both sides\n`);

if (rows.includes('ref')) referenceRows();

const script = (file: string, ...a: string[]) => {
  console.log('');
  const p = spawnSync(process.execPath, [resolve(here, '..', 'bin', 'run-ts.js'), join(here, file), ...a], { stdio: 'inherit' });
  if (p.status !== 0) process.exitCode = 1;
};
// Row (b): generation with and without the KV cache (--full-generate: 128 tokens on the SmolLM2 shape too).
if (rows.includes('b')) script('generate.ts', ...(process.argv.includes('--full-generate') ? ['--full'] : []));
// Row (c): one RL step of the hallucination recipes' shape with and without the KV cache.
if (rows.includes('c')) script('rl_cache.ts');
// Rows (a), (e), (d): LoRA training at real size beside PyTorch on the same threads; minutes per step.
if (rows.includes('a')) script('lora-row.ts', '--recompute', '0', '--steps', '3', '--threads', String(threads));
if (rows.includes('e')) script('lora-row.ts', '--shape', 'qwen', '--recompute', '0,1', '--steps', '2', '--threads', String(threads));
if (rows.includes('d')) script('rl-lora.ts', '--threads', String(threads));

const minutes = (performance.now() - started) / 60000;
printSummary(summaryFile, `Summary (rows ${rows.join(', ')}; ${threads} threads on both sides; load ${loadavg()} at the end; the bench took ${minutes.toFixed(1)} min):`);

/** The reference shape's SFT step on every backend that loads, then PyTorch on each BLAS found. */
function referenceRows(): void {
  console.log(`reference rows: d_model ${cfg.dModel}, ${cfg.nLayers} layers, ${cfg.nHeads} heads, d_mlp ${cfg.dMlp}, ` +
    `context ${cfg.nCtx}, batch ${cfg.batchSize}, vocab ${cfg.vocabSize}, AdamW; ${cfg.warmup} warmup + ${cfg.steps} timed steps`);
  const results: BackendResult[] = [];
  let defaultBackend: string | undefined;
  for (const backend of backends) {
    const first = defaultBackend === undefined;
    const r = runChild(backend, backend === 'cpu' ? cpuCfg : cfg, first);
    results.push(r);
    // auto passes a software webgpu adapter over: the default is the next backend that loads.
    if (!r.skipped && first && !r.adapter?.startsWith('software')) defaultBackend = backend;
    console.log(r.skipped ? `  ${backend}: skipped (${r.skipped})` : `  ${backend}: ${r.tokensPerSec!.toFixed(0)} tokens/s over ${r.steps} steps  [${r.describe}]`);
  }
  const torches = runTorch(cfg);
  for (const t of torches) console.log(t.skipped ? `  pytorch: skipped (${t.skipped})` : `  pytorch (${t.blas}, ${t.threads} threads): ${t.tokensPerSec!.toFixed(0)} tokens/s`);

  printTable(results, torches, cpuCfg);
  console.log(`  load average after the reference rows: ${loadavg()}`);
  const main = results.find((r) => r.backend === defaultBackend);
  if (main?.breakdown) printBreakdown(main);

  // The summary compares each backend with PyTorch on OpenBLAS (else the only PyTorch that ran).
  const torch = torches.find((t) => t.blas === 'OpenBLAS') ?? torches.find((t) => !t.skipped);
  const cell = (x: { stepMsTrimmed?: number; stepMsMin?: number; tokensPerSec?: number }) =>
    `${x.stepMsTrimmed!.toFixed(0)} ms / ${x.stepMsMin!.toFixed(0)} ms, ${x.tokensPerSec!.toFixed(0)} tokens/s`;
  const mb = (n?: number) => (n === undefined ? '-' : `${(n / 2 ** 20).toFixed(0)} MB`);
  for (const r of results.filter((x) => !x.skipped && x.backend !== 'cpu' && !x.adapter?.startsWith('software'))) {
    const q = torch && !torch.skipped ? ratios(r, torch) : undefined;
    addSummaryRow({
      row: `reference shape, SFT step, ${r.backend}${r.products ? ` (products on ${r.products.split(' (')[0]})` : ''}`,
      bonsai: cell(r), pytorch: torch && !torch.skipped ? `${cell(torch)} (${torch.blas})` : torch?.skipped ?? '-',
      ratio: q ? `${q.fastest.toFixed(2)}× / ${q.trimmed.toFixed(2)}×` : '-',
      threads: `${r.threads ?? '-'} / ${torch?.threads ?? '-'}`, peak: `${mb(r.rssMax)} / ${mb(torch?.rssMax)} (RSS)`,
    });
  }
  const leaks = results.filter((r) => r.tensorGrowth?.some((d) => d !== 0));
  if (leaks.length) {
    console.error(`\nFAIL: tensors leak per step on ${leaks.map((r) => `${r.backend} (${r.tensorGrowth!.join(',')})`).join('; ')}`);
    process.exitCode = 1;
  }
}

function runChild(backend: string, c: BenchConfig, breakdown: boolean): BackendResult {
  const launcher = resolve(here, '..', 'bin', 'run-ts.js');
  const xnnpack = backend === 'wasm-xnnpack';
  const argv = [launcher, join(here, 'run.ts'), '--child', xnnpack ? 'wasm' : backend, '--config', JSON.stringify(c), '--breakdown', String(breakdown)];
  argv.push('--threads', String(threads));
  const env = xnnpack ? { ...process.env, BONSAI_BLAS: 'off' } : process.env;
  const p = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 64 << 20, env });
  const line = p.stdout?.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) return { backend, skipped: `crashed (exit ${p.status}): ${(p.stderr ?? '').trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` };
  return { ...(JSON.parse(line.slice('BENCH_RESULT '.length)) as BackendResult), backend };
}


/** Runs bench/torch_reference.py with the first python3 that has torch, once per BLAS found. */
function runTorch(c: BenchConfig): TorchResult[] {
  const script = join(here, 'torch_reference.py');
  const pythons = [process.env.BONSAI_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const py of pythons) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) continue;
    const dirs = BLAS_DIRS.filter((d) => existsSync(join(d, 'libblas.so.3')));
    return (dirs.length ? dirs : [undefined]).map((dir) => {
      const env = dir ? { ...process.env, LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : process.env;
      const p = spawnSync(py, [script, JSON.stringify({ ...c, threads })], { encoding: 'utf8', env });
      const line = p.stdout?.trim().split('\n').pop();
      if (p.status !== 0 || !line) return { skipped: `torch_reference.py failed: ${(p.stderr ?? '').trim().split('\n').pop()}` };
      return JSON.parse(line) as TorchResult;
    });
  }
  return [{ skipped: 'no python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread; or set BONSAI_PYTHON)' }];
}
