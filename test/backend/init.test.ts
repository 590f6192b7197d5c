import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeBackend, initBackend } from '../../src/backend/index.ts';
import { BonsaiError } from '../../src/errors.ts';

describe('initBackend', () => {
  it('auto falls back to wasm and says why the native backends were skipped', async () => {
    const report = await initBackend('auto');
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.tried.map((t) => t.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm']);
    expect(report.tried[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/tfjs-node-gpu is not installed/) });
    // This machine's (and CI's) only WebGPU adapter is lavapipe: auto says why it passed it over.
    expect(report.tried[1]).toMatchObject({ ok: false, reason: expect.stringMatching(/only a software adapter, mesa software \(llvmpipe.*auto uses hardware adapters only/) });
    expect(report.tried[3]).toEqual({ name: 'wasm', ok: true });
    expect(report.threads).toBeGreaterThanOrEqual(1);
    expect(describeBackend(report)).toMatch(/^backend wasm \(\d threads?\), auto; skipped tensorflow-gpu: /);
  });

  it('is idempotent and switches when asked for another', async () => {
    const a = await initBackend('cpu');
    expect(await initBackend('cpu')).toBe(a);
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('asking for a backend that cannot load is a BonsaiError with the reason', async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(BonsaiError);
    await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/tfjs-node-gpu is not installed/);
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend 'gpu'/);
    expect(tf.getBackend()).toBe('wasm'); // a failed request leaves the active backend alone
  });
});
