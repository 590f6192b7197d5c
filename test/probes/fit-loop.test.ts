import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureFeatures, fitProbe, fitProbeLoop, type Features } from '../../src/probes/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Label = whether token 5 appears in the sequence (as in probe.test.ts). */
function features(hook: string): Features {
  const rng = new Rng(2);
  const ex = Array.from({ length: 120 }, () => {
    const ids = Array.from({ length: 6 }, () => 6 + rng.int(17));
    const label = rng.next() < 0.3 ? 1 : 0;
    if (label) ids[rng.int(6)] = 5;
    return { ids, label, span: [0, 6] as [number, number] };
  });
  const model = tinyModel(1).frozenCopy();
  const f = captureFeatures(model, hook, 'sequence', ex);
  model.dispose();
  return f;
}

const recorder = () => {
  const logged: Array<[number, Record<string, number>]> = [];
  return { logged, logMetrics: (step: number, m: Record<string, number>) => void logged.push([step, m]) };
};
const valuesOf = (w: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(w).map(([k, t]) => [k, Array.from(t.dataSync())]));

describe('probe training on the loop driver (fitProbeLoop)', () => {
  it('gives fitProbe\'s probe bit for bit, logs both losses every epoch and stops early on patience', async () => {
    const f = features('blocks.1.hook_resid_post');
    const o = { name: 'has5', hook: 'blocks.1.hook_resid_post', level: 'sequence' as const, kind: { kind: 'mlp' as const, hidden: 16, l2: 1e-4 }, fingerprint: 'x', seed: 0, patience: 10 };
    const before = tf.memory().numTensors;
    const sync = fitProbe(f, o);
    const tracker = recorder();
    const r = await fitProbeLoop(f, { ...o, tracker });
    expect(r.stopped).toBe('early');
    expect(r.epochs).toBeLessThan(400);
    expect(r.probe.meta).toEqual(sync.meta);
    expect(valuesOf(r.probe.weights)).toEqual(valuesOf(sync.weights));
    const train = tracker.logged.filter(([, m]) => 'probes/has5/train_loss' in m).map(([s]) => s);
    const val = tracker.logged.filter(([, m]) => 'probes/has5/val_loss' in m).map(([s, m]) => [s, m['probes/has5/val_loss']!]);
    expect(train).toEqual(Array.from({ length: r.epochs }, (_, i) => i + 1));
    expect(val.map(([s]) => s)).toEqual(train);
    // Patience: the last 10 epochs did not beat the best held-out loss before them.
    const losses = val.map(([, v]) => v);
    const bestBefore = Math.min(...losses.slice(0, -10));
    expect(Math.min(...losses.slice(-10))).toBeGreaterThanOrEqual(bestBefore - 1e-5);
    [sync, r.probe].forEach((p) => p.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an interrupt ends the fit after the current epoch; a non-finite epoch is an error naming the probe', async () => {
    const f = features('hook_embed');
    const o = { name: 'has5', hook: 'hook_embed', level: 'sequence' as const, kind: { kind: 'logistic' as const, l2: 1e-3 }, fingerprint: 'x' };
    const r = await fitProbeLoop(f, { ...o, interrupt: { requested: true } });
    expect([r.epochs, r.stopped]).toEqual([1, 'interrupted']);
    expect(r.probe.meta.metrics.n).toBeGreaterThan(0);
    r.probe.dispose();
    const bad = { ...f, X: f.X.map((v, i) => (i === 3 ? Infinity : v)) };
    await expect(fitProbeLoop(bad, o)).rejects.toThrow(/step 1: the loss is NaN; 1 step\(s\) in a row had NaN or infinite gradients \(\(loss\)/);
    expect(() => fitProbe(bad, o)).toThrow(/probe "has5": epoch 1: the loss is NaN/);
  });
});
