/**
 * Bench row (d): one RL step with LoRA on the SmolLM2-135M shape, bonsai beside PyTorch.
 * 8 prompts of 16 random tokens × G = 8: 64 rollouts of 64 sampled tokens (temperature 1, the
 * KV cache, no stop token), the frozen reference's pass (the base with its adapters off: no
 * second copy) and the policy's old-log-prob pass, a reward, group-normalised advantages, then
 * one clipped policy-gradient + β·KL update of r = 16 adapters on every linear layer.
 * PyTorch (bench/torch_reference.py, mode "rl") runs the same step from the same definitions.
 *
 *   node bin/run-ts.js bench/rl-lora.ts [--recompute 1] [--threads 1] [--layers 30] [--torch 0]
 *
 * The loss pass covers 64 × 80 tokens: its activations do not fit the wasm heap without
 * recomputation (the pre-step estimate is printed beside the choice), so both sides recompute
 * each block in the backward pass (PyTorch: torch.utils.checkpoint). One small warm-up step
 * (1 prompt, 4 tokens) on each side, then one timed step; phases in seconds.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { attachRecipeLora } from '../src/lora/build.ts';
import { frozenReference } from '../src/lora/attach.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import type { Tokenizer } from '../src/models/tokenizer.ts';
import type { Recipe } from '../src/recipe/schema.ts';
import type { Reward } from '../src/rewards/types.ts';
import { createLossStep } from '../src/trainer/seam.ts';
import { backendMemoryLimit, HEADROOM } from '../src/trainer/memory-budget.ts';
import { stepShapeOf } from '../src/trainer/memory-check.ts';
import { estimateStepMemory, formatBytes } from '../src/trainer/memory-estimate.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { clippedPg } from '../src/trainer/rl-loss.ts';
import { rlStep } from '../src/trainer/rl.ts';
import { Rng } from '../src/util/rng.ts';
import { ALL_LINEAR, ROW_A, SMOLLM2_135M } from './lora-shape.ts';
import { addSummaryRow, loadavg } from './summary.ts';
import { runTorchReference } from './torch-side.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const recompute = arg('recompute', '1') === '1';
const threads = Number(arg('threads', '1'));
const cfg = { ...SMOLLM2_135M, nLayers: Number(arg('layers', String(SMOLLM2_135M.nLayers))) };
const [PROMPTS, G, PROMPT_LEN, NEW] = [8, 8, 16, 64];
const V = cfg.vocabSize;

const backend = await initBackend('wasm', { wasmThreads: threads });
const policy = HookedTransformer.create(cfg, 0);
const adapters = attachRecipeLora({ r: ROW_A.r, alpha: ROW_A.alpha, dropout: 0, rslora: false, targets: ALL_LINEAR }, policy, 0);
const frozen = frozenReference(policy);
// Ids are the prompts' own (PromptItem.ids); decoding only feeds the reward's text, which this one does not read.
const tokenizer: Tokenizer = { kind: 'byte', vocabSize: V, eosId: V - 1, encode: () => [], decode: (ids) => String.fromCharCode(...ids.map((i) => 97 + (i % 26))) };
/** The fraction of completion tokens in the vocabulary's lower half (the PyTorch side scores the same). */
const lowerHalf: Reward = { name: 'lower_half', weight: 1, score: (b) => b.completions.map((c) => c.filter((t) => t < V / 2).length / Math.max(1, c.length)) };
const optimizer = new AdamW({ lr: ROW_A.lr, weightDecay: 0 });
const lossStep = createLossStep({ model: policy, optimizer, transforms: [] });
let updateS = 0;
const timedStep: typeof lossStep = (...a) => {
  const t0 = performance.now();
  const r = lossStep(...a);
  updateS += (performance.now() - t0) / 1000;
  return r;
};
const rng = new Rng(7);
const prompts = (n: number) => Array.from({ length: n }, () => ({ prompt: '', ids: Array.from({ length: PROMPT_LEN }, () => rng.int(V)) }));
const options = (maxNewTokens: number) => ({
  policy, frozen, tokenizer, rewards: [lowerHalf], loss: clippedPg(0.2), step: timedStep, beta: 0.05, scaleByStd: true, innerEpochs: 1,
  rollout: { G, maxNewTokens, temperature: 1, rng: 5, kvCache: true }, memory: { ceChunk: 'auto' as const, recompute },
});

// The pre-step check's estimate for the loss pass (trainer/memory-check.ts: batch × group rows of prompt + new tokens).
const settings = { trainer: { kind: 'sft', batch_size: PROMPTS * G, grad_accum: 1 }, memory: { ce_chunk: 'auto', recompute } } as unknown as Recipe;
const est = estimateStepMemory(stepShapeOf(settings, policy, PROMPT_LEN + NEW, backend.name));
const planned = backendMemoryLimit(backend.name)!.bytes * HEADROOM;
console.log(`row (d): one RL step, LoRA r=16 on every linear of the SmolLM2-135M shape (${cfg.nLayers} layers): ${PROMPTS * G} rollouts × ${NEW} tokens with the KV cache, then the update; ` +
  `memory.recompute ${recompute} (estimate ${formatBytes(est.peak)} of ${formatBytes(planned)} planned: ${est.peak <= planned ? 'fits' : 'does not fit'}); ${threads} thread(s) on both sides; load ${loadavg()}`);

await rlStep(options(4), prompts(1)); // warm-up, not timed
updateS = 0;
const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
const c0 = process.cpuUsage();
const { metrics } = await rlStep(options(NEW), prompts(PROMPTS));
const cpu = process.cpuUsage(c0);
const rollout = metrics['time/rollout_s']!;
const step = metrics['time/step_s']!;
const bonsai = { rolloutS: rollout, passesS: step - rollout - updateS, updateS, stepS: step, cpuS: (cpu.user + cpu.system) / 1e6, heapMB: heap() / 1e6, loss: metrics['train/loss']!, entropy: metrics['train/entropy']! };
console.log(`  bonsai (wasm, ${backend.threads ?? 1} thread(s)) done, load ${loadavg()}`);
optimizer.dispose();
adapters.dispose();
policy.dispose();

const torch = arg('torch', '1') === '1' ? runTorch() : 'skipped (--torch 0)';
console.log(`  pytorch: ${typeof torch === 'string' ? torch : 'done'}, load ${loadavg()}\n`);
const s = (x: number) => `${x.toFixed(1)} s`;
console.log('| side | rollouts (64 × 64 tokens) | reference + old-log-prob passes | update | whole step | CPU | peak memory |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
console.log(`| bonsai (wasm, ${backend.threads ?? 1} thread(s)${recompute ? ', recompute' : ''}) | ${s(bonsai.rolloutS)} | ${s(bonsai.passesS)} | ${s(bonsai.updateS)} | ${s(bonsai.stepS)} | ${s(bonsai.cpuS)} | ${bonsai.heapMB.toFixed(0)} MB (wasm heap) |`);
if (typeof torch !== 'string') {
  console.log(`| PyTorch ${torch.torch} (${torch.blas}, ${torch.threads} thread(s), checkpointed blocks) | ${s(torch.rolloutS)} | ${s(torch.passesS)} | ${s(torch.updateS)} | ${s(torch.stepS)} | ${s(torch.cpuS)} | ${torch.peakRssGrowthMB.toFixed(0)} MB (max RSS growth) |`);
  console.log(`\nbonsai ÷ PyTorch speed (PyTorch's time ÷ bonsai's): rollouts ${(torch.rolloutS / bonsai.rolloutS).toFixed(2)}×, passes ${(torch.passesS / bonsai.passesS).toFixed(2)}×, ` +
    `update ${(torch.updateS / bonsai.updateS).toFixed(2)}×, whole step ${(torch.stepS / bonsai.stepS).toFixed(2)}×, CPU ${(torch.cpuS / bonsai.cpuS).toFixed(2)}×`);
} else console.log(`| PyTorch | ${torch} | | | | | |`);
// The closing summary of npm run bench (bench/summary.ts): one timed step a side, so fastest = trimmed.
const phases = (x: { rolloutS: number; passesS: number; updateS: number; stepS: number }) =>
  `${s(x.stepS)} (rollouts ${s(x.rolloutS)}, passes ${s(x.passesS)}, update ${s(x.updateS)})`;
const whole = typeof torch === 'string' ? '-' : `${(torch.stepS / bonsai.stepS).toFixed(2)}×`;
addSummaryRow({
  row: `(d) RL step with LoRA, SmolLM2-135M shape (${cfg.nLayers} layers), ${PROMPTS * G} × ${NEW} tokens, one timed step`,
  bonsai: phases(bonsai), pytorch: typeof torch === 'string' ? torch : phases(torch), ratio: `${whole} / ${whole}`,
  threads: `${backend.threads ?? 1} / ${typeof torch === 'string' ? '-' : torch.threads}`,
  peak: `${bonsai.heapMB.toFixed(0)} MB (wasm heap) / ${typeof torch === 'string' ? '-' : `${torch.peakRssGrowthMB.toFixed(0)} MB (RSS growth)`}`,
});

interface TorchRl { torch: string; blas: string; threads: number; rolloutS: number; passesS: number; updateS: number; stepS: number; cpuS: number; peakRssGrowthMB: number }

function runTorch(): TorchRl | string {
  return runTorchReference<TorchRl>({ mode: 'rl', nLayers: cfg.nLayers, prompts: PROMPTS, group: G, promptLen: PROMPT_LEN, newTokens: NEW, threads });
}
