import * as tf from '@tensorflow/tfjs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { diagnoseNoAdapter } from '../../src/backend/webgpu-diagnose.ts';
import { clipTransform } from '../../src/gradients/index.ts';
import { generate, HookedTransformer } from '../../src/models/index.ts';
import { Probe } from '../../src/probes/index.ts';
import { frozenPass, probeReward, scoreRewards, type RolloutBatch } from '../../src/rewards/index.ts';
import { AdamW, createTrainStep, lmLoss } from '../../src/trainer/index.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir, writeTinyRecipe } from '../helpers/recipes.ts';
import { randomBatch } from '../helpers/tiny.ts';

/**
 * bonsai on the webgpu backend against tfjs-cpu (the reference numerics). CI runs this on
 * lavapipe, Mesa's software Vulkan (.ci/run installs it): if Dawn finds no adapter, every
 * test here fails with initBackend's message naming what is missing; nothing is skipped.
 * Shapes are tiny: lavapipe compiles each shader on the CPU, and that dominates.
 *
 * Tolerance: float32 on both, but WGSL's exp/log/sigmoid need only be accurate to a few ULP
 * (tfjs-cpu calls Math.*), and the GPU sums in another order (tiled products, tree
 * reductions). Over two layers that gives ~1e-6 relative on the loss and up to ~1e-5 on a
 * gradient, relative to its own scale (measured: see the numbers each test prints on
 * failure). 1e-4 for gradients is ten times that and still far below a real bug (a wrong
 * kernel or gradient is off by O(1)); the same floor as the wasm parity test guards the
 * gradients that are zero in exact arithmetic (b_K).
 */

const config = { vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 48, nCtx: 12, layerNormEps: 1e-5, initStd: 0.2, tiedEmbeddings: false };

beforeAll(async () => {
  await initBackend('webgpu'); // throws naming the missing package, Vulkan loader or driver
});

/** Runs `f` on a backend and returns its (JS) result; leaves webgpu active afterwards. */
async function on<T>(backend: 'cpu' | 'webgpu', f: () => T | Promise<T>): Promise<T> {
  await initBackend(backend);
  try {
    return await f();
  } finally {
    await initBackend('webgpu');
  }
}

function lossAndGrads() {
  const model = HookedTransformer.create(config, 5);
  try {
    const b = randomBatch(9, 3, 10, config.vocabSize);
    b.weights = b.weights.map((_, i) => (i % 5 === 0 ? 0 : 1)); // some masked targets
    const { value, grads } = tf.variableGrads(() => lmLoss(model, b, { forward: { cache: ['blocks.1.attn.hook_pattern'] } }), [...model.params.values()]);
    const byPath = new Map([...model.params].map(([path, v]) => [path, grads[v.name]!.dataSync() as Float32Array]));
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: byPath };
  } finally {
    model.dispose();
  }
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('webgpu backend (lavapipe in CI)', () => {
  it('the full model: loss and every gradient match cpu', async () => {
    const cpu = await on('cpu', lossAndGrads);
    const gpu = lossAndGrads();
    expect(Math.abs(gpu.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-5);
    expect([...gpu.grads.keys()]).toEqual([...cpu.grads.keys()]);
    const global = Math.max(...[...cpu.grads.values()].map(maxAbs));
    for (const [path, want] of cpu.grads) {
      expect(maxDiff(gpu.grads.get(path)!, want) / Math.max(maxAbs(want), 1e-2 * global), path).toBeLessThan(1e-4);
    }
  });

  it('trains: AdamW steps with clipping match cpu, and tensors and GPU bytes stay flat', async () => {
    const run = () => {
      const model = HookedTransformer.create(config, 2);
      // Clipping sums one norm term per parameter (AddN of 37 inputs: the chunked override).
      const step = createTrainStep({ model, optimizer: new AdamW({ lr: 1e-2, weightDecay: 0.1 }), transforms: [clipTransform(0.5)] });
      const batch = randomBatch(7, 2, 10, config.vocabSize);
      const losses: number[] = [];
      const memory: { tensors: number; bytes: number; gpu?: number; pooled?: number }[] = [];
      for (let i = 0; i < 4; i++) {
        const r = step(batch); // the same batch each step, so the loss must fall
        losses.push(r.loss);
        // webgpu also reports bytes in GPU buffers, and all its pool has allocated.
        const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
        memory.push({ tensors: m.numTensors, bytes: m.numBytes, gpu: m.numBytesInGPU, pooled: m.numBytesAllocatedInGPU });
      }
      model.dispose();
      return { losses, memory };
    };
    const cpu = await on('cpu', run);
    const gpu = run();
    expect(tf.getBackend()).toBe('webgpu');
    for (let i = 0; i < cpu.losses.length; i++) expect(Math.abs(gpu.losses[i]! - cpu.losses[i]!) / cpu.losses[i]!).toBeLessThan(1e-4);
    expect(gpu.losses[3]!).toBeLessThan(gpu.losses[0]!);
    // From the second step on (the optimizer's moments exist), nothing accumulates.
    expect(new Set(gpu.memory.slice(1).map((m) => m.tensors)).size).toBe(1);
    expect(new Set(gpu.memory.slice(1).map((m) => m.bytes)).size).toBe(1);
    expect(gpu.memory[1]!.gpu).toBeGreaterThan(0);
    expect(new Set(gpu.memory.slice(1).map((m) => m.gpu)).size, JSON.stringify(gpu.memory)).toBe(1);
    // The buffer pool reuses freed buffers: once warm, a step allocates nothing new.
    expect(new Set(gpu.memory.slice(2).map((m) => m.pooled)).size, JSON.stringify(gpu.memory)).toBe(1);
  });

  it('greedy generation gives the same tokens as cpu', async () => {
    const gen = () => {
      const model = HookedTransformer.create(config, 4);
      const g = generate(model, [[1, 2, 3], [4, 5]], { maxNewTokens: 5, temperature: 0 });
      model.dispose();
      return g.tokens;
    };
    expect(gen()).toEqual(await on('cpu', gen));
  });

  it('a frozen copy keeps the weights bit-exact, and a probe reward on it matches cpu', async () => {
    const score = async () => {
      const policy = HookedTransformer.create(config, 6);
      const frozen = policy.frozenCopy();
      expect(frozen.fingerprint()).toBe(policy.fingerprint());
      const d = config.dModel;
      const w = Float32Array.from({ length: d }, (_, i) => Math.sin(i + 1));
      const probe = new Probe(
        { name: 'p', hook: 'blocks.1.hook_resid_post', level: 'token', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
        { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.tensor1d(w), b: tf.scalar(0.1) },
      );
      const reward = probeReward({ name: 'p', weight: 1, probe, aggregate: 'mean', sign: 1, host: 'frozen' });
      const batch: RolloutBatch = {
        ids: Int32Array.from([1, 2, 3, 7, 8, 1, 2, 3, 9, 0]), R: 2, T: 5, promptLens: [3, 3],
        completions: [[7, 8], [9]], texts: ['', ''], prompts: ['', ''], answers: ['', ''], mask: Float32Array.from([0, 0, 1, 1, 0, 0, 1, 0]),
      };
      const pass = frozenPass(frozen, batch, [reward]);
      const s = await scoreRewards([reward], batch, { frozen: pass });
      const ref = Array.from(pass.refLogprobs.dataSync());
      pass.refLogprobs.dispose();
      pass.cache.dispose();
      reward.dispose?.();
      probe.dispose();
      [policy, frozen].forEach((m) => m.dispose());
      return { scores: Array.from(s.byName.p!), ref };
    };
    const cpu = await on('cpu', score);
    const gpu = await score();
    expect(maxDiff(gpu.scores, cpu.scores)).toBeLessThan(1e-5);
    expect(maxDiff(gpu.ref, cpu.ref)).toBeLessThan(1e-4); // log-probs ~ −4: 1e-5 relative
  });

  it('a recipe runs end to end in a child process, logs the adapter, and the process exits', () => {
    const dir = tempDir();
    const r = bonsai(['train', writeTinyRecipe(dir, { steps: 3 }), '--set', 'backend=webgpu']);
    expect(r.code, r.stderr).toBe(0);
    // CI's adapter is lavapipe ("mesa software (llvmpipe: …), software adapter"); a GPU's name differs.
    expect(r.stdout).toMatch(/backend webgpu \(adapter \S.*\), requested webgpu/);
    expect(r.stdout).toMatch(/finished at step 3 .* on webgpu; train loss \d/);
    const runs = join(dir, 'mlruns');
    const tag = (name: string) => readFileSync(join(runs, '1', findRun(runs), 'tags', name), 'utf8');
    expect(tag('bonsai.backend')).toBe('webgpu');
    expect(tag('bonsai.backend.adapter')).toBe(r.stdout.match(/\(adapter (.*)\), requested webgpu/)![1]);
  });

  it('backend: webgpu without a Vulkan driver is one message naming it and what auto picks; no hang', () => {
    const dir = tempDir();
    const started = Date.now();
    const r = bonsai(['train', writeTinyRecipe(dir, { steps: 1 }), '--set', 'backend=webgpu'], { env: { VK_ICD_FILENAMES: '/nonexistent/icd.json' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/backend 'webgpu' is not available: no Vulkan driver: VK_ICD_FILENAMES names \/nonexistent\/icd\.json, which does not exist/);
    expect(r.stderr).toMatch(/backend: auto .*\(here: wasm\)/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});

describe('why there is no adapter', () => {
  it('names the missing piece per platform and for Vulkan env overrides', () => {
    expect(diagnoseNoAdapter({}, 'darwin')).toMatch(/no Metal adapter/);
    expect(diagnoseNoAdapter({}, 'win32')).toMatch(/no D3D12 adapter/);
    expect(diagnoseNoAdapter({ VK_DRIVER_FILES: '/nope/a.json:/nope/b.json' }, 'linux')).toMatch(/no Vulkan driver: VK_DRIVER_FILES names \/nope\/a\.json, \/nope\/b\.json, which does not exist/);
    // This machine has the loader and lavapipe's manifest: a listed-but-rejected driver is named.
    const icd = readdirSync('/usr/share/vulkan/icd.d').find((f) => f.startsWith('lvp'))!;
    expect(diagnoseNoAdapter({ VK_ICD_FILENAMES: `/usr/share/vulkan/icd.d/${icd}` }, 'linux')).toMatch(/no usable Vulkan driver among .*lvp.*Dawn rejected them/);
    expect(diagnoseNoAdapter({}, 'linux')).toMatch(/Vulkan drivers are installed \(.*lvp_icd.*\) but Dawn accepted none/);
  });
});

function findRun(mlruns: string): string {
  return readdirSync(join(mlruns, '1')).find((d) => d !== 'meta.yaml')!;
}
