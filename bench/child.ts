import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, type AdapterInfo, type BackendPreference } from '../src/backend/index.ts';
import { HookedTransformer } from '../src/models/index.ts';
import { AdamW, applyGradients, computeGradients, createTrainStep, lmLoss, type LmBatch } from '../src/trainer/index.ts';
import { Rng } from '../src/util/rng.ts';
import { median, SOFTWARE_STEPS, trimmedMean, type BackendResult, type BenchConfig } from './config.ts';

/**
 * One backend's measurement, run in its own process (bench/run.ts spawns it) so that a
 * backend's thread count, heap and warm caches never leak into another's numbers.
 * Trains through the real createTrainStep on random tokens and reports tokens/s, memory
 * and the tensor count after every step.
 */

/** Random next-token batches from a fixed seed: inputs and targets uniform over the vocab. */
function batches(cfg: BenchConfig): () => LmBatch {
  const rng = new Rng(cfg.seed);
  const n = cfg.batchSize * cfg.nCtx;
  return () => {
    const inputs = new Int32Array(n);
    const targets = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      inputs[i] = rng.nextUint32() % cfg.vocabSize;
      targets[i] = rng.nextUint32() % cfg.vocabSize;
    }
    return { inputs, targets, weights: new Float32Array(n).fill(1), batchSize: cfg.batchSize, seqLen: cfg.nCtx };
  };
}

export async function measure(backend: BackendPreference, threads: number | undefined, cfg: BenchConfig, breakdown: boolean): Promise<BackendResult> {
  let report;
  try {
    report = await initBackend(backend, threads ? { threads } : {});
  } catch (e) {
    return { backend, skipped: e instanceof Error ? e.message : String(e) };
  }
  const adapter = report.adapter;
  if (adapter?.software) {
    // lavapipe & co. compute on the CPU: a short run says what it needs to (and the
    // per-kernel breakdown would take longer than the rest of the bench).
    cfg = { ...cfg, warmup: Math.min(cfg.warmup, SOFTWARE_STEPS.warmup), steps: Math.min(cfg.steps, SOFTWARE_STEPS.steps) };
    breakdown = false;
  }
  const model = HookedTransformer.create({ ...cfg, layerNormEps: 1e-5, initStd: 0.02 }, cfg.seed);
  const optimizer = new AdamW({ lr: cfg.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: cfg.weightDecay });
  const step = createTrainStep({ model, optimizer, transforms: [] });
  const next = batches(cfg);
  for (let i = 0; i < cfg.warmup; i++) step(next());

  const times: number[] = [];
  const cpuTimes: number[] = [];
  const growth: number[] = [];
  let tensors = tf.memory().numTensors;
  let bytesMax = tf.memory().numBytes;
  let rssMax = process.memoryUsage().rss;
  let loss = NaN;
  for (let i = 0; i < cfg.steps; i++) {
    const batch = next(); // made outside the timed region, as torch's are
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    loss = step(batch).loss; // reads the loss back, so the step has finished
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
    const mem = tf.memory();
    growth.push(mem.numTensors - tensors);
    tensors = mem.numTensors;
    bytesMax = Math.max(bytesMax, mem.numBytes);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  const profile = await tf.profile(() => {
    step(next());
  });
  const stepMsTrimmed = trimmedMean(times);
  const result: BackendResult = {
    backend,
    describe: describeBackend(report),
    ...(adapter ? { adapter: adapterLabel(adapter) } : {}),
    threads: report.threads,
    ...(report.products ? { products: report.products.library ?? 'XNNPACK' } : {}),
    steps: cfg.steps,
    stepMs: times,
    stepMsMedian: median(times),
    stepMsMin: Math.min(...times),
    stepMsTrimmed,
    cpuMsMedian: median(cpuTimes),
    tokensPerSec: (cfg.batchSize * cfg.nCtx * 1000) / stepMsTrimmed,
    tensorBytesMax: bytesMax,
    peakBytesInStep: profile.peakBytes,
    rssMax,
    tensorGrowth: growth,
    finalLoss: loss,
  };
  if (breakdown) result.breakdown = await timeParts(model, optimizer, next, profile);
  model.dispose();
  optimizer.dispose();
  return result;
}

/** "software: mesa llvmpipe: Mesa 25.0.7…" or "nvidia ampere, NVIDIA GeForce RTX 3090": short enough for a table. */
function adapterLabel(a: AdapterInfo): string {
  const name = [a.vendor, a.software ? '' : a.architecture].filter(Boolean).join(' ');
  const what = a.description || a.device;
  return `${a.software ? 'software: ' : ''}${name}${what ? `, ${what.length > 40 ? `${what.slice(0, 39)}…` : what}` : ''}`;
}

/**
 * Forward alone, forward + backward, and the optimizer, each timed on its own (median of
 * 10), plus the kernels of one profiled step by total time. Wrapper entries tf.profile
 * lists around kernels (customGrad scopes, `…__op`) are left out so nothing counts twice.
 */
async function timeParts(model: HookedTransformer, optimizer: AdamW, next: () => LmBatch, profile: Awaited<ReturnType<typeof tf.profile>>) {
  const vars = [...model.params.values()];
  const fwd: number[] = [];
  const fwdBwd: number[] = [];
  const opt: number[] = [];
  for (let i = 0; i < 10; i++) {
    const b = next();
    let t0 = performance.now();
    tf.tidy(() => lmLoss(model, b).dataSync());
    fwd.push(performance.now() - t0);
    t0 = performance.now();
    const { grads } = computeGradients(model, () => lmLoss(model, b)); // syncs on the loss value
    fwdBwd.push(performance.now() - t0);
    t0 = performance.now();
    // The update as trainers run it: the non-finite check, then AdamW (consumes the gradients).
    applyGradients(model, grads, { optimizer });
    vars[0]!.dataSync();
    opt.push(performance.now() - t0);
  }
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels) {
    if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue;
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    // webgpu without timestamp queries reports an error object instead of a time.
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byName.set(k.name, e);
  }
  const kernels = [...byName].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ms - a.ms);
  return { forwardMs: median(fwd), backwardMs: median(fwdBwd) - median(fwd), optimizerMs: median(opt), kernels };
}
