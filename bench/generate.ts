/**
 * Bench row (b): greedy generation of 128 new tokens for 8 prompts × 16 tokens, with and
 * without the KV cache, on the reference GPT-2 shape (context raised to 160 so 128 new tokens
 * fit) and a SmolLM2-135M-shaped Llama (random init), beside PyTorch with its own KV cache
 * (bench/torch_reference.py, both shapes). Both paths run the output head on each row's last
 * position only (on both sides).
 *
 *   node bin/run-ts.js bench/generate.ts [--full] [--backend wasm] [--tokens 128]
 *
 * The SmolLM2 shape's uncached run re-reads the whole window per token (about an hour on 2
 * shared cores), so by default its uncached side is ESTIMATED: one uncached step is timed at
 * each of a few window lengths and the 128 steps' times are summed by linear interpolation
 * between them (the row says so); --full runs it for real. Every cached run is real.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { createModel, generate, modelConfig, type CausalLM, type LMConfig } from '../src/models/index.ts';
import { familyConfigFromRecipe } from '../src/models/families/config.ts';
import { Rng } from '../src/util/rng.ts';

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const backend = opt('--backend', 'auto');
const N = Number(opt('--tokens', '128'));
const PROMPT = 16;
/** Tokens of a real uncached run compared with the cached output on an estimated row. */
const PREFIX = 4;
// One wasm thread unless BONSAI_WASM_THREADS says otherwise, as PyTorch's side: a like-for-like ratio.
const report = await initBackend(backend as 'auto', { wasmThreads: Number(process.env.BONSAI_WASM_THREADS) || 1 });

const reference = modelConfig({ vocabSize: 256, dModel: 128, nLayers: 2, nHeads: 4, dMlp: 512, nCtx: 160, tiedEmbeddings: true });
const smolShape = { vocab_size: 49152, d_model: 576, n_layers: 30, n_heads: 9, n_kv_heads: 3, d_mlp: 1536, n_ctx: 256 };
const smol: LMConfig = familyConfigFromRecipe({ family: 'llama', ...smolShape, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02 });
/** Window lengths at which one uncached step is timed for an estimate: the first, last and three between. */
const windows = [PROMPT, PROMPT + Math.round((N - 1) / 4), PROMPT + Math.round((N - 1) / 2), PROMPT + Math.round((3 * (N - 1)) / 4), PROMPT + N - 1];

function prompts(vocab: number, length = PROMPT, seed = 0): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: 8 }, () => Array.from({ length }, () => rng.int(vocab)));
}

/** A real run of N greedy tokens (after a short warm-up that compiles kernels and warms the JIT). */
function run(m: CausalLM, kvCache: boolean, warmTokens: number): { tokensPerSec: number; tokens: number[][] } {
  const p = prompts(m.config.vocabSize);
  generate(m, p, { maxNewTokens: warmTokens, temperature: 0, kvCache });
  const t0 = performance.now();
  const g = generate(m, p, { maxNewTokens: N, temperature: 0, kvCache });
  return { tokensPerSec: (8 * N * 1e3) / (performance.now() - t0), tokens: g.tokens };
}

/** Estimated uncached tokens/s: one real uncached step (window T → next token) timed per window, summed over the N steps' windows. */
function estimateUncached(m: CausalLM): { tokensPerSec: number; stepMs: number[] } {
  generate(m, prompts(m.config.vocabSize, 4), { maxNewTokens: 1, temperature: 0, kvCache: false }); // warm-up
  const stepMs = windows.map((T, k) => {
    const t0 = performance.now();
    generate(m, prompts(m.config.vocabSize, T, 1 + k), { maxNewTokens: 1, temperature: 0, kvCache: false });
    return performance.now() - t0;
  });
  return { tokensPerSec: (8 * N * 1e3) / integrate(stepMs), stepMs };
}

/** Σ over the N steps (window PROMPT + i) of the step time, linear between the timed windows. */
function integrate(stepMs: number[]): number {
  let total = 0;
  for (let i = 0; i < N; i++) {
    const T = PROMPT + i;
    const k = Math.max(0, windows.findIndex((w, j) => T >= w && T <= windows[j + 1]!));
    const [a, b] = [windows[k]!, windows[k + 1] ?? windows[k]!];
    total += b === a ? stepMs[k]! : stepMs[k]! + ((stepMs[k + 1]! - stepMs[k]!) * (T - a)) / (b - a);
  }
  return total;
}

const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

interface TorchGen { cachedTokensPerSec: number; uncachedTokensPerSec?: number; uncachedStepMs?: number[]; identical?: boolean }

function torch(shape: Record<string, unknown>): TorchGen | string {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
  // One thread, as the wasm side: on shared cores two OpenMP threads spin-wait on each other
  // (measured 30–80x slower under load). OpenBLAS where Debian also has the reference BLAS.
  const cfg = { mode: 'generate', newTokens: N, threads: 1, ...shape };
  const env = existsSync(`${OPENBLAS}/libblas.so.3`) ? { ...process.env, LD_LIBRARY_PATH: [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : process.env;
  const py = spawnSync(process.env.BONSAI_PYTHON ?? '/usr/bin/python3', [script, JSON.stringify(cfg)], { encoding: 'utf8', env });
  const line = py.stdout?.trim().split('\n').pop();
  if (py.status !== 0 || !line) return `skipped (${(py.stderr ?? '').trim().split('\n').pop()})`;
  return JSON.parse(line) as TorchGen;
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`bonsai bench (b): greedy generation, 8 prompts × ${PROMPT} tokens → ${N} new tokens, backend ${tf.getBackend()} (${report.threads ?? 1} thread(s))`);
console.log(`machine: ${os.availableParallelism()} cores, load ${load()} (shared: ratios measured side by side)\n`);
const fmt = (x: number) => x.toFixed(1);
const rows: Array<{ name: string; config: LMConfig; estimate: boolean; torch: Record<string, unknown> }> = [
  { name: 'reference GPT-2 shape', config: reference, estimate: false, torch: { vocabSize: 256, dModel: 128, nLayers: 2, nHeads: 4, dMlp: 512, nCtx: 160 } },
  {
    name: 'SmolLM2-135M shape', config: smol, estimate: !full,
    torch: { shape: 'llama', vocabSize: smolShape.vocab_size, dModel: smolShape.d_model, nLayers: smolShape.n_layers, nHeads: smolShape.n_heads, nKvHeads: smolShape.n_kv_heads, dMlp: smolShape.d_mlp, nCtx: smolShape.n_ctx, ...(full ? {} : { uncachedWindows: windows }) },
  },
];
for (const row of rows) {
  const m = createModel(row.config, 0);
  const warm = row.estimate ? 2 : 16;
  const cached = run(m, true, warm);
  const plain = row.estimate ? estimateUncached(m) : run(m, false, warm);
  // An estimated row still checks the outputs: the first PREFIX tokens of a real uncached run (untimed).
  const plainTokens = 'tokens' in plain ? plain.tokens : generate(m, prompts(m.config.vocabSize), { maxNewTokens: PREFIX, temperature: 0, kvCache: false }).tokens;
  const cachedTokens = 'tokens' in plain ? cached.tokens : cached.tokens.map((t) => t.slice(0, PREFIX));
  const same = `${JSON.stringify(cachedTokens) === JSON.stringify(plainTokens) ? 'identical' : 'DIFFER'}${'tokens' in plain ? '' : ` (first ${PREFIX} tokens of each row)`}`;
  const how = 'stepMs' in plain ? ` (ESTIMATED from one uncached step timed at windows ${windows.join(', ')}: ${plain.stepMs.map((x) => x.toFixed(0)).join(', ')} ms)` : '';
  console.log(`  bonsai ${row.name}: cached ${fmt(cached.tokensPerSec)} tok/s, uncached ${fmt(plain.tokensPerSec)} tok/s${how}; ` +
    `cached/uncached ${(cached.tokensPerSec / plain.tokensPerSec).toFixed(2)}x (goal ≥ 5x: ${cached.tokensPerSec / plain.tokensPerSec >= 5 ? 'met' : 'MISSED'}); outputs ${same}; load ${load()}`);
  m.dispose();
  const t = torch(row.torch);
  if (typeof t === 'string') {
    console.log(`  pytorch ${row.name}: ${t}`);
    continue;
  }
  const tUncached = t.uncachedTokensPerSec ?? (t.uncachedStepMs ? (8 * N * 1e3) / integrate(t.uncachedStepMs) : NaN);
  const tHow = t.uncachedStepMs ? ` (ESTIMATED the same way: ${t.uncachedStepMs.map((x) => x.toFixed(0)).join(', ')} ms)` : '';
  console.log(`  pytorch ${row.name}: cached ${fmt(t.cachedTokensPerSec)} tok/s, uncached ${fmt(tUncached)} tok/s${tHow}; cached/uncached ${(t.cachedTokensPerSec / tUncached).toFixed(2)}x` +
    `${t.identical === undefined ? '' : `; outputs ${t.identical ? 'identical' : 'DIFFER'}`}`);
  console.log(`  bonsai/pytorch ${row.name}: cached ${(cached.tokensPerSec / t.cachedTokensPerSec).toFixed(2)}, uncached ${(plain.tokensPerSec / tUncached).toFixed(2)}; load ${load()}`);
}
