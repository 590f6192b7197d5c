import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { describeBackend, initBackend } from '../../src/backend/index.ts';
import { BonsaiError } from '../../src/errors.ts';

/** Whether an optional native backend package is installed here (its install fails offline, and npm then skips it). */
function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const gpuPkg = installed('@tensorflow/tfjs-node-gpu');
const cpuPkg = installed('@tensorflow/tfjs-node');

describe('initBackend', () => {
  it('auto tries the native backends first and says why each skipped one was skipped', async () => {
    const report = await initBackend('auto');
    const names = report.tried.map((t) => t.name);
    expect(names).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'].slice(0, names.length));
    if (!gpuPkg) expect(report.tried[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/tfjs-node-gpu is not installed/) });
    if (!gpuPkg && !cpuPkg && !report.tried[1]!.ok) {
      expect(report.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      // This machine's (and CI's) only WebGPU adapter is lavapipe: auto says why it passed it over.
      expect(report.tried[1]).toMatchObject({ ok: false, reason: expect.stringMatching(/only a software adapter, mesa software \(llvmpipe.*auto uses hardware adapters only/) });
      expect(report.tried[3]).toEqual({ name: 'wasm', ok: true });
      expect(report.threads).toBeGreaterThanOrEqual(1);
      // Which path its products take, BLAS or XNNPACK, in the same line.
      expect(report.products?.path).toMatch(/^(blas|xnnpack)$/);
      expect(describeBackend(report)).toMatch(/^backend wasm \(\d threads?(, XNNPACK \d)?; (products on \S.*|.*: products run on XNNPACK)\), auto; skipped tensorflow-gpu: /);
    } else {
      // A native package or a hardware GPU adapter: either it loads, or the report says why it failed.
      const last = report.tried.at(-1)!;
      expect(last.ok).toBe(true);
      expect(tf.getBackend()).toBe(report.name);
      for (const t of report.tried.slice(0, -1)) expect(t).toMatchObject({ ok: false, reason: expect.any(String) });
    }
  });

  it('is idempotent and switches when asked for another', async () => {
    const a = await initBackend('cpu');
    expect(await initBackend('cpu')).toBe(a);
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('asking for a backend that cannot load is a BonsaiError with the reason', async () => {
    await initBackend('wasm');
    if (!cpuPkg) await expect(initBackend('tensorflow')).rejects.toThrow(BonsaiError);
    if (!gpuPkg) await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/tfjs-node-gpu is not installed/);
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend 'gpu'/);
    expect(tf.getBackend()).toBe('wasm'); // a failed request leaves the active backend alone
  });

  it.runIf(gpuPkg)('with tfjs-node-gpu installed, asking for it loads it or says why it failed to load', async () => {
    const got = await initBackend('tensorflow-gpu').then(
      (r) => r.name,
      (e: Error) => e.message,
    );
    expect(got).toMatch(/^tensorflow$|^backend 'tensorflow-gpu' is not available: \S/);
    await initBackend('wasm');
  });
});
