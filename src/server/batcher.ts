/**
 * Dynamic batching: sequences from all requests wait in one queue; a batch runs when the
 * queue holds `maxBatch` sequences or the oldest has waited `maxWaitMs`. Batches run one at
 * a time (the model is one), so requests arriving during a pass pile up and go together
 * into the next. A request's sequences may span several batches; its promise settles when
 * the last of them is scored.
 */

/** Runs one batch; returns one result per input, in order. */
export type BatchRunner<I, O> = (items: I[]) => Promise<O[]>;

interface Pending<I, O> {
  item: I;
  job: Job<O>;
  index: number;
}

interface Job<O> {
  results: O[];
  left: number;
  cancelled: boolean;
  resolve(v: O[]): void;
  reject(e: unknown): void;
}

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
}

export class DynamicBatcher<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly run: BatchRunner<I, O>, private readonly o: BatcherOptions) {}

  /** Sequences waiting for a pass. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues `items`; resolves with their results in order. `signal` drops those not yet started. */
  submit(items: I[], signal?: AbortSignal): Promise<O[]> {
    return new Promise<O[]>((resolve, reject) => {
      if (items.length === 0) return resolve([]);
      const job: Job<O> = { results: new Array<O>(items.length), left: items.length, cancelled: false, resolve, reject };
      signal?.addEventListener('abort', () => {
        job.cancelled = true;
        this.queue = this.queue.filter((p) => p.job !== job);
        reject(signal.reason);
      }, { once: true });
      items.forEach((item, index) => this.queue.push({ item, job, index }));
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running (SIGTERM's drain). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.running) return; // the pass in progress schedules the next when it ends
    if (this.queue.length >= this.o.maxBatch || this.o.maxWaitMs <= 0) return void this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.o.maxWaitMs);
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.o.maxBatch);
    try {
      const out = await this.run(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        p.job.results[p.index] = out[i]!;
        if (--p.job.left === 0 && !p.job.cancelled) p.job.resolve(p.job.results);
      });
    } catch (e) {
      // One failed pass fails every request with a sequence in it; the rest of those requests is dropped.
      const failed = new Set(batch.map((p) => p.job));
      this.queue = this.queue.filter((p) => !failed.has(p.job));
      failed.forEach((j) => j.reject(e));
    } finally {
      this.running = false;
    }
    // What queued during the pass goes next: at once if a full batch, else after at most maxWaitMs more.
    if (this.queue.length) {
      this.schedule();
    } else {
      this.idleWaiters.splice(0).forEach((r) => r());
    }
  }
}
