import { describe, expect, it } from 'vitest';
import { Batcher, evalBatches, type Batch, type Example } from '../../src/data/index.ts';
import { BonsaiError } from '../../src/errors.ts';
import { numbered } from './helpers.ts';

/** The example index each row of a batch came from (numbered() fills ids with it). */
const rowsOf = (b: Batch) => Array.from({ length: b.batchSize }, (_, r) => b.inputs[r * b.seqLen]!);
const take = (batcher: Batcher, n: number) => Array.from({ length: n }, () => batcher.next());

describe('Batcher', () => {
  it('shifts targets by one and takes weights from lossMask[1..T]', () => {
    const ex: Example = { ids: Int32Array.from([5, 6, 7, 8]), lossMask: Uint8Array.from([0, 0, 1, 1]) };
    const b = new Batcher([ex], { batchSize: 2, seed: 0 }).next();
    expect(Array.from(b.inputs)).toEqual([5, 6, 7, 5, 6, 7]);
    expect(Array.from(b.targets)).toEqual([6, 7, 8, 6, 7, 8]);
    expect(Array.from(b.weights)).toEqual([0, 1, 1, 0, 1, 1]);
    expect([b.batchSize, b.seqLen, b.tokens]).toEqual([2, 3, 4]);
  });

  it('visits every example once per epoch, wrapping batches across epochs', () => {
    const batcher = new Batcher(numbered(10), { batchSize: 4, seed: 3 });
    const seen = take(batcher, 5).flatMap(rowsOf); // 20 rows = exactly 2 epochs
    expect([...seen.slice(0, 10)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect([...seen.slice(10)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(seen.slice(0, 10)).not.toEqual(seen.slice(10)); // each epoch reshuffled
    expect(batcher.state()).toMatchObject({ epoch: 1, cursor: 10 });
  });

  it('shuffles deterministically by seed, differently across seeds', () => {
    const order = (seed: number) => take(new Batcher(numbered(50), { batchSize: 50, seed }), 1).flatMap(rowsOf);
    expect(order(7)).toEqual(order(7));
    expect(order(7)).not.toEqual(order(8));
    expect(order(7)).not.toEqual([...Array(50).keys()]);
  });

  it('resumed from state() yields the same batches as an uninterrupted run', () => {
    const data = numbered(7);
    const full = take(new Batcher(data, { batchSize: 3, seed: 11 }), 12);
    for (const cut of [1, 2, 5, 9]) {
      const first = new Batcher(data, { batchSize: 3, seed: 11 });
      take(first, cut);
      const saved = JSON.parse(JSON.stringify(first.state()));
      const resumed = new Batcher(data, { batchSize: 3, seed: 11 });
      resumed.restore(saved);
      expect(take(resumed, 12 - cut)).toEqual(full.slice(cut));
    }
  });

  it('refuses a state from other data or another seed', () => {
    const b = new Batcher(numbered(5), { batchSize: 2, seed: 1 });
    expect(() => b.restore({ epoch: 0, cursor: 0, size: 6, seed: 1 })).toThrow(BonsaiError);
    expect(() => b.restore({ epoch: 0, cursor: 0, size: 5, seed: 2 })).toThrow(BonsaiError);
    expect(() => b.restore({ epoch: -1, cursor: 0 })).toThrow(BonsaiError);
    expect(() => b.restore({ epoch: 0, cursor: 6 })).toThrow(BonsaiError);
  });

  it('rejects bad options and empty data', () => {
    expect(() => new Batcher(numbered(3), { batchSize: 0, seed: 0 })).toThrow(BonsaiError);
    expect(() => new Batcher([], { batchSize: 1, seed: 0 })).toThrow(BonsaiError);
  });
});

describe('evalBatches', () => {
  it('keeps order, makes the last batch smaller, and stops at maxBatches', () => {
    const all = evalBatches(numbered(7), 3);
    expect(all.map(rowsOf)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(all[2]!.inputs).toHaveLength(3);
    expect(evalBatches(numbered(7), 3, 2)).toHaveLength(2);
    expect(evalBatches([], 3)).toEqual([]);
  });
});
