/**
 * Bench row (b): greedy generation, 8 prompts × 16 tokens, with and without the KV cache, on
 * the reference GPT-2 shape (context raised to 160 so 128 new tokens fit) and a
 * SmolLM2-135M-shaped Llama (random init), beside PyTorch with its own KV cache
 * (bench/torch_reference.py, GPT-2 shape).
 *
 *   node bin/run-ts.js bench/generate.ts [--full] [--backend wasm]
 *
 * Default (smoke): 128 new tokens on the reference shape, 16 on the SmolLM2 shape (its
 * uncached run re-reads the whole window per token and takes minutes); --full: 128 on both.
 */
import { spawnSync } from 'node:child_process';
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
const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1]! : 'auto';
await initBackend(backend as 'auto');

const reference = modelConfig({ vocabSize: 256, dModel: 128, nLayers: 2, nHeads: 4, dMlp: 512, nCtx: 160, tiedEmbeddings: true });
const smol: LMConfig = familyConfigFromRecipe({
  family: 'llama', vocab_size: 49152, d_model: 576, n_layers: 30, n_heads: 9, n_kv_heads: 3, d_mlp: 1536, n_ctx: 256, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02,
});

function prompts(vocab: number): number[][] {
  const rng = new Rng(0);
  return Array.from({ length: 8 }, () => Array.from({ length: 16 }, () => rng.int(vocab)));
}

function time(m: CausalLM, newTokens: number, kvCache: boolean): { tokensPerSec: number; ms: number; tokens: number[][] } {
  const p = prompts(m.config.vocabSize);
  generate(m, p.map((x) => x.slice(0, 4)), { maxNewTokens: 2, temperature: 0, kvCache }); // warm-up (kernels, wasm)
  const t0 = performance.now();
  const g = generate(m, p, { maxNewTokens: newTokens, temperature: 0, kvCache });
  const ms = performance.now() - t0;
  return { tokensPerSec: (8 * newTokens * 1e3) / ms, ms, tokens: g.tokens };
}

console.log(`bonsai bench (b): greedy generation, 8 prompts × 16 tokens, backend ${tf.getBackend()}`);
console.log(`machine: ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (shared: ratios measured side by side)\n`);
const rows: Array<[string, LMConfig, number]> = [['reference GPT-2 shape', reference, 128], ['SmolLM2-135M shape', smol, full ? 128 : 16]];
for (const [name, config, n] of rows) {
  const m = createModel(config, 0);
  const cached = time(m, n, true);
  const plain = time(m, n, false);
  const same = JSON.stringify(cached.tokens) === JSON.stringify(plain.tokens);
  console.log(`  ${name}, ${n} new tokens: cached ${cached.tokensPerSec.toFixed(1)} tok/s, uncached ${plain.tokensPerSec.toFixed(1)} tok/s, ` +
    `speed-up ${(cached.tokensPerSec / plain.tokensPerSec).toFixed(2)}x; outputs ${same ? 'identical' : 'DIFFER'}`);
  m.dispose();
}

const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
const py = spawnSync(process.env.BONSAI_PYTHON ?? '/usr/bin/python3', [script, JSON.stringify({ mode: 'generate', nCtx: 160, newTokens: 128, threads: 2 })], { encoding: 'utf8' });
const line = py.stdout?.trim().split('\n').pop();
if (py.status === 0 && line) {
  const t = JSON.parse(line) as { cachedTokensPerSec: number; uncachedTokensPerSec: number };
  console.log(`  pytorch ${'reference GPT-2 shape'}, 128 new tokens: cached ${t.cachedTokensPerSec.toFixed(1)} tok/s, uncached ${t.uncachedTokensPerSec.toFixed(1)} tok/s`);
} else console.log(`  pytorch: skipped (${(py.stderr ?? '').trim().split('\n').pop()})`);
