import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { physicalCores } from '../src/backend/threads.ts';
import { measure } from './child.ts';
import { GPT2_SMALL, parseArgs, REFERENCE, type BackendResult, type BenchConfig } from './config.ts';
import { printBreakdown, printTable, type TorchResult } from './report.ts';

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
 *                    [--skip-lora]  (leave out row (a), LoRA on the SmolLM2 shape: bench/lora-row.ts)
 *                    [--reference-only]  (the reference rows alone: no (a), (b), (c))
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
const backends = (args.backends ?? 'tensorflow-gpu,webgpu,tensorflow,wasm,wasm-xnnpack,cpu').split(',');
// tfjs-cpu is pure JS (~40x slower): fewer steps keep the bench short; its row says so.
const cpuCfg: BenchConfig = { ...cfg, warmup: Math.min(cfg.warmup, 2), steps: Math.min(cfg.steps, 5) };

console.log(`bonsai bench: d_model ${cfg.dModel}, ${cfg.nLayers} layers, ${cfg.nHeads} heads, d_mlp ${cfg.dMlp}, ` +
  `context ${cfg.nCtx}, batch ${cfg.batchSize}, vocab ${cfg.vocabSize}, AdamW; ${cfg.warmup} warmup + ${cfg.steps} timed steps`);
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
// Both sides get the same threads: --threads, else bonsai's default (the physical cores).
const threads = args.threads ? Number(args.threads) : physicalCores();
console.log(`machine: ${os.availableParallelism()} CPUs (${physicalCores()} physical cores), load ${load()} (others' work skews timings); ${threads} threads on both sides\n`);

const results: BackendResult[] = [];
let defaultBackend: string | undefined;
for (const backend of backends) {
  const first = defaultBackend === undefined;
  const r = runChild(backend, backend === 'cpu' ? cpuCfg : cfg, first);
  results.push(r);
  if (!r.skipped && first) defaultBackend = backend;
  console.log(r.skipped ? `  ${backend}: skipped (${r.skipped})` : `  ${backend}: ${r.tokensPerSec!.toFixed(0)} tokens/s over ${r.steps} steps  [${r.describe}]`);
}
const torches = runTorch(cfg);
for (const t of torches) console.log(t.skipped ? `  pytorch: skipped (${t.skipped})` : `  pytorch (${t.blas}, ${t.threads} threads): ${t.tokensPerSec!.toFixed(0)} tokens/s`);

printTable(results, torches, cpuCfg);
console.log(`  load average after the reference rows: ${load()}`);
const main = results.find((r) => r.backend === defaultBackend);
if (main?.breakdown) printBreakdown(main);

const leaks = results.filter((r) => r.tensorGrowth?.some((d) => d !== 0));
if (leaks.length) {
  console.error(`\nFAIL: tensors leak per step on ${leaks.map((r) => `${r.backend} (${r.tensorGrowth!.join(',')})`).join('; ')}`);
  process.exitCode = 1;
}
if (process.argv.includes('--reference-only')) process.exit();

// Row (b): generation with and without the KV cache (bench/generate.ts; --full-generate: 128 tokens on the SmolLM2 shape too).
console.log('');
spawnSync(process.execPath, [resolve(here, '..', 'bin', 'run-ts.js'), join(here, 'generate.ts'), ...(process.argv.includes('--full-generate') ? ['--full'] : [])], { stdio: 'inherit' });
// Row (c): one RL step of the hallucination recipes' shape with and without the KV cache (bench/rl_cache.ts).
console.log('');
spawnSync(process.execPath, [resolve(here, '..', 'bin', 'run-ts.js'), join(here, 'rl_cache.ts')], { stdio: 'inherit' });

// Row (a): LoRA training on the SmolLM2-135M shape beside PyTorch (bench/lora-row.ts; minutes per step on one CPU thread; --skip-lora leaves it out).
if (!process.argv.includes('--skip-lora')) {
  console.log('');
  const lora = spawnSync(process.execPath, [resolve(here, '..', 'bin', 'run-ts.js'), join(here, 'lora-row.ts')], { stdio: 'inherit' });
  if (lora.status !== 0) process.exitCode = 1;
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
