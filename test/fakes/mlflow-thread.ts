/**
 * The fake MLflow server on a thread of its own. A training step holds the main thread's
 * event loop for a while; a server in that same loop would answer only between steps and
 * make timeouts fire that a real server (another process) would never cause. On its own
 * thread the fake answers at once, as a real one does.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { FakeMlflow, type FakeMlflowOptions, type FakeRun } from './mlflow-server.ts';

/** What the server holds, copied out of the thread. */
export interface FakeSnapshot {
  runs: Array<{ info: FakeRun['info']; params: Record<string, string>; tags: Record<string, string>; metrics: FakeRun['metrics']; statusHistory: string[] }>;
  artifacts: string[];
  log: string[];
  stalledTotal: number;
}

/** Controls a FakeMlflow running on a worker thread. */
export class FakeMlflowThread {
  private seq = 0;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private constructor(private readonly worker: Worker, readonly url: string) {
    worker.on('message', (m: { id: number; result: unknown }) => this.waiting.get(m.id)?.(m.result));
  }

  static async start(opts: FakeMlflowOptions = {}): Promise<FakeMlflowThread> {
    // The thread loads this file through tsx (a dependency already), registered by a JS stub.
    const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
    const tsx = pathToFileURL(join(tsxRoot, 'dist/esm/api/index.mjs')).href;
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { fakeMlflow: opts } });
    const url = await new Promise<string>((resolve, reject) => {
      worker.once('message', (m: { url: string }) => resolve(m.url));
      worker.once('error', reject);
    });
    return new FakeMlflowThread(worker, url);
  }

  private call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, (v) => (this.waiting.delete(id), resolve(v as T)));
      this.worker.postMessage({ id, op, args: args.map((a) => (a instanceof RegExp ? { re: a.source } : a)) });
    });
  }
  failNext(n: number, status = 503, opts: { retryAfter?: string; match?: RegExp } = {}): Promise<void> {
    return this.call('failNext', n, status, { ...opts, match: opts.match && { re: opts.match.source } });
  }
  dropNext(n: number, match?: RegExp): Promise<void> {
    return this.call('dropNext', n, match);
  }
  stall(ms?: number): Promise<void> {
    return this.call('stall', ms);
  }
  unstall(): Promise<void> {
    return this.call('unstall');
  }
  snapshot(): Promise<FakeSnapshot> {
    return this.call('snapshot');
  }
  async close(): Promise<void> {
    await this.call('close');
    await this.worker.terminate();
  }
}

// Only in the thread started above (vitest may itself run tests on worker threads).
if (!isMainThread && parentPort && (workerData as { fakeMlflow?: unknown } | undefined)?.fakeMlflow) {
  const port = parentPort;
  const fake = await FakeMlflow.start((workerData as { fakeMlflow: FakeMlflowOptions }).fakeMlflow);
  const revive = (a: unknown): unknown => (a && typeof a === 'object' && 're' in a ? new RegExp((a as { re: string }).re) : a);
  port.on('message', async ({ id, op, args }: { id: number; op: string; args: unknown[] }) => {
    const a = args.map(revive) as never[];
    let result: unknown = null;
    if (op === 'failNext') fake.failNext(a[0]!, a[1], { ...(a[2] as object), match: revive((a[2] as { match?: unknown }).match) as RegExp | undefined });
    else if (op === 'dropNext') fake.dropNext(a[0]!, a[1]);
    else if (op === 'stall') fake.stall(a[0] ?? Infinity);
    else if (op === 'unstall') fake.unstall();
    else if (op === 'close') await fake.close();
    else if (op === 'snapshot') {
      result = {
        runs: [...fake.runs.values()].map((r) => ({ info: r.info, params: Object.fromEntries(r.params), tags: Object.fromEntries(r.tags), metrics: r.metrics, statusHistory: r.statusHistory ?? [] })),
        artifacts: [...fake.artifacts.keys()],
        log: fake.log,
        stalledTotal: fake.stalledTotal,
      } satisfies FakeSnapshot;
    }
    port.postMessage({ id, result });
  });
  port.postMessage({ url: fake.url });
}
