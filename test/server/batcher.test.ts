import { describe, expect, it } from 'vitest';
import { DynamicBatcher } from '../../src/server/batcher.ts';

/** A runner that records its batches and doubles each item after `ms`. */
function recorder(ms = 5) {
  const batches: number[][] = [];
  const run = async (xs: number[]) => {
    batches.push(xs);
    await new Promise((r) => setTimeout(r, ms));
    return xs.map((x) => x * 2);
  };
  return { batches, run };
}

describe('DynamicBatcher', () => {
  it('merges what arrives within max wait into one batch, results back in each request order', async () => {
    const { batches, run } = recorder();
    const b = new DynamicBatcher(run, { maxBatch: 10, maxWaitMs: 20 });
    const out = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    expect(out).toEqual([[2, 4], [6], [8, 10, 12]]);
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('runs a full batch at once, splits a request over batches, and queues what arrives during a pass for the next', async () => {
    const { batches, run } = recorder(30);
    const b = new DynamicBatcher(run, { maxBatch: 3, maxWaitMs: 10_000 });
    const t0 = performance.now();
    const first = b.submit([1, 2, 3, 4]); // 3 go now (full); 4 waits
    await new Promise((r) => setTimeout(r, 5));
    const second = b.submit([5, 6]); // arrives during the pass: joins 4
    expect(await first).toEqual([2, 4, 6, 8]);
    expect(await second).toEqual([10, 12]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(performance.now() - t0).toBeLessThan(5000); // never waited the 10 s max wait: both batches were full
  });

  it('an aborted request leaves the queue; a failed pass fails only the requests in it; idle() waits for the queue', async () => {
    const b = new DynamicBatcher(async (xs: number[]) => {
      if (xs.includes(13)) throw new Error('unlucky');
      return xs;
    }, { maxBatch: 2, maxWaitMs: 20 });
    const ac = new AbortController();
    const gone = b.submit([7, 8, 9], ac.signal);
    ac.abort(new Error('timed out'));
    await expect(gone).rejects.toThrow('timed out');
    expect(b.queued).toBe(0);
    const bad = b.submit([13]);
    const good = b.submit([1]);
    await expect(bad).rejects.toThrow('unlucky'); // 13 and 1 shared the failed pass
    await expect(good).rejects.toThrow('unlucky');
    const later = b.submit([2, 3, 4]);
    await b.idle();
    expect(await later).toEqual([2, 3, 4]);
    expect(b.queued).toBe(0);
  });
});
