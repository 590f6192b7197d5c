// Bench row (c): one RL step of the hallucination recipes' shape with 64-token completions,
// with and without the KV cache, side by side (same model, prompts, seed and sampling).
// node bin/run-ts.js bench/rl_cache.ts [steps=2]   (wasm: 1 thread unless BONSAI_WASM_THREADS)
// The recipes' model (d 64, 2 layers, byte tokens) with its context raised to 96 so a prompt
// plus 64 new tokens fits; no stop token, so every completion is 64 tokens.
import { initBackend } from '../src/backend/index.ts';
import { modelConfig } from '../src/models/index.ts';
import { createTokenizer } from '../src/models/tokenizer.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import { regexReward } from '../src/rewards/index.ts';
import { createLossStep } from '../src/trainer/seam.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { clippedPg } from '../src/trainer/rl-loss.ts';
import { rlStep } from '../src/trainer/rl.ts';
import os from 'node:os';

const steps = Number(process.argv[2] ?? 2);
const backend = await initBackend('auto', { wasmThreads: Number(process.env.BONSAI_WASM_THREADS) || 1 }); // one thread: the shared cores' fair share
const tok = createTokenizer('byte');
const config = modelConfig({ vocabSize: 257, dModel: 64, nLayers: 2, nHeads: 4, nCtx: 96 });
const prompts = Array.from({ length: 8 }, (_, i) => ({ prompt: `Q: colour of Ent${i}?\nA:` }));

async function run(kvCache: boolean) {
  const policy = HookedTransformer.create(config, 1);
  const frozen = policy.frozenCopy();
  const optimizer = new AdamW({ lr: 1e-4 });
  const o = { policy, frozen, tokenizer: tok, rewards: [regexReward('format', 1, '^ [a-z]+\\n')], loss: clippedPg(0.2), step: createLossStep({ model: policy, optimizer, transforms: [] }),
    rollout: { G: 8, maxNewTokens: 64, temperature: 1, rng: 5, kvCache }, beta: 0.05, scaleByStd: true, innerEpochs: 1 };
  await rlStep(o, prompts); // warm-up
  let step = 0;
  let gen = 0;
  for (let i = 0; i < steps; i++) {
    const m = (await rlStep(o, prompts)).metrics;
    step += m['time/step_s']!;
    gen += m['time/rollout_s']!;
  }
  [policy, frozen].forEach((x) => x.dispose());
  optimizer.dispose();
  return { step: step / steps, rollout: gen / steps };
}

const on = await run(true);
const off = await run(false);
console.log(`bonsai bench (c): backend ${backend.name}; hallucination recipes' model (d 64, L 2, n_ctx 96); 64 rollouts × 64 new tokens; ${steps} steps each`);
console.log(`machine: ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const ms = (x: number) => `${(x * 1e3).toFixed(0)} ms`;
console.log(`  RL step: cached ${ms(on.step)}, uncached ${ms(off.step)}, speed-up ${(off.step / on.step).toFixed(2)}x`);
console.log(`  of which rollouts: cached ${ms(on.rollout)}, uncached ${ms(off.rollout)}, speed-up ${(off.rollout / on.rollout).toFixed(2)}x`);
