/**
 * Batching with resumable, deterministic shuffling. Epoch e's order is a permutation
 * seeded by (seed, e) alone, so the whole stream of batches is a pure function of
 * (examples, seed, batchSize) and a checkpoint only has to store where it stopped.
 */
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { checkSeed, mixSeed, SEED_PURPOSE } from './seed.ts';
import type { Batch, Example } from './types.ts';

/** Where the batcher is; JSON-serialisable, saved in checkpoints. */
export interface BatcherState {
  /** Epoch the next example is drawn from (0-based). */
  epoch: number;
  /** Index into that epoch's permutation of the next example. */
  cursor: number;
  /** Number of examples and seed when saved: resuming on other data is refused. */
  size: number;
  seed: number;
}

/** Options for a Batcher. */
export interface BatcherOptions {
  batchSize: number;
  seed: number;
}

/** Checks examples are non-empty and of one length; returns T (= ids length − 1). */
function seqLenOf(examples: readonly Example[]): number {
  if (examples.length === 0) throw new BonsaiError('cannot batch an empty dataset');
  const len = examples[0]!.ids.length;
  for (const ex of examples) {
    if (ex.ids.length !== len || ex.lossMask.length !== len) {
      throw new Error(`examples differ in length (${len} vs ${ex.ids.length}): a loader bug`);
    }
  }
  if (len < 2) throw new Error('examples must hold at least 2 ids: a loader bug');
  return len - 1;
}

/** Packs examples into one Batch: inputs = ids[0..T), targets = ids[1..T]. */
export function makeBatch(rows: readonly Example[], seqLen: number): Batch {
  const B = rows.length;
  const T = seqLen;
  const inputs = new Int32Array(B * T); // [B*T]
  const targets = new Int32Array(B * T); // [B*T]
  const weights = new Float32Array(B * T); // [B*T]
  let tokens = 0;
  for (let b = 0; b < B; b++) {
    const { ids, lossMask } = rows[b]!;
    inputs.set(ids.subarray(0, T), b * T);
    targets.set(ids.subarray(1, T + 1), b * T);
    for (let t = 0; t < T; t++) {
      const w = lossMask[t + 1]!;
      weights[b * T + t] = w;
      tokens += w;
    }
  }
  return { inputs, targets, weights, batchSize: B, seqLen: T, tokens };
}

/**
 * Endless shuffled batches. Batches wrap across epoch boundaries (the last rows of a
 * batch may come from the next epoch), so every batch is full and no example is
 * skipped. `restore(state())` continues exactly where an uninterrupted run would.
 */
export class Batcher {
  readonly batchSize: number;
  readonly seqLen: number;
  private readonly seed: number;
  private epoch = 0;
  private cursor = 0;
  private order: Int32Array; // [n] permutation for `epoch`

  constructor(
    private readonly examples: readonly Example[],
    opts: BatcherOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new BonsaiError(`batch_size must be a positive integer, got ${opts.batchSize}`);
    }
    checkSeed(opts.seed);
    this.batchSize = opts.batchSize;
    this.seed = opts.seed;
    this.seqLen = seqLenOf(examples);
    this.order = this.permutation(0);
  }

  /** Epoch e's order, from (seed, e) alone. */
  private permutation(epoch: number): Int32Array {
    const idx = Array.from({ length: this.examples.length }, (_, i) => i);
    new Rng(mixSeed(this.seed, SEED_PURPOSE.shuffle, epoch)).shuffle(idx);
    return Int32Array.from(idx);
  }

  /** The next batch of exactly batchSize rows. */
  next(): Batch {
    const rows: Example[] = [];
    while (rows.length < this.batchSize) {
      if (this.cursor >= this.order.length) {
        this.epoch++;
        this.cursor = 0;
        this.order = this.permutation(this.epoch);
      }
      rows.push(this.examples[this.order[this.cursor++]!]!);
    }
    return makeBatch(rows, this.seqLen);
  }

  /** Where the batcher is, for a checkpoint. */
  state(): BatcherState {
    return { epoch: this.epoch, cursor: this.cursor, size: this.examples.length, seed: this.seed };
  }

  /** Continues from a saved state; refuses one saved on other data or another seed. */
  restore(state: Pick<BatcherState, 'epoch' | 'cursor'> & Partial<BatcherState>): void {
    const n = this.examples.length;
    const { epoch, cursor } = state;
    const epochOk = Number.isSafeInteger(epoch) && epoch >= 0;
    if (!epochOk || !Number.isInteger(cursor) || cursor < 0 || cursor > n) {
      throw new BonsaiError(`invalid batcher state ${JSON.stringify(state)} for ${n} examples`);
    }
    if (state.size !== undefined && state.size !== n) {
      throw new BonsaiError(`checkpoint's data had ${state.size} examples, this data has ${n}`, {
        hint: 'resume with the same dataset and seq_len the run started with',
      });
    }
    if (state.seed !== undefined && state.seed !== this.seed) {
      throw new BonsaiError(`checkpoint's data seed was ${state.seed}, this run's is ${this.seed}`);
    }
    if (epoch !== this.epoch) this.order = this.permutation(epoch);
    this.epoch = epoch;
    this.cursor = cursor;
  }
}

/**
 * Fixed-order batches for evaluation: examples in order, no shuffle, the last batch may
 * be smaller. At most maxBatches batches (all of them when omitted).
 */
export function evalBatches(
  examples: readonly Example[],
  batchSize: number,
  maxBatches = Infinity,
): Batch[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new BonsaiError(`eval batch size must be a positive integer, got ${batchSize}`);
  }
  if (examples.length === 0) return [];
  const T = seqLenOf(examples);
  const out: Batch[] = [];
  for (let i = 0; i < examples.length && out.length < maxBatches; i += batchSize) {
    out.push(makeBatch(examples.slice(i, i + batchSize), T));
  }
  return out;
}
