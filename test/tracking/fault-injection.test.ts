import { afterEach, describe, expect, it } from 'vitest';
import { RestMlflowTracker } from '../../src/tracking/index.ts';
import type { Tracker } from '../../src/tracking/types.ts';
import { train } from '../../src/trainer/train.ts';
import { FakeMlflowThread } from '../fakes/mlflow-thread.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

// MLflow's own knobs, shrunk: a request gives up after 1 s, backoff takes milliseconds.
const FAST = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.005', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_TIMEOUT: '1', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' };
let server: FakeMlflowThread | undefined;
afterEach(async () => server?.close());

/** Delegates to `inner`, noting every metric the training loop logs and how long logging took. */
function recording(inner: Tracker, logged: string[], hotPathMs: number[] = []): Tracker {
  return {
    startRun: (o) => inner.startRun(o),
    logParams: (p) => inner.logParams(p),
    logMetrics: (step, record, ts) => {
      for (const [k, v] of Object.entries(record)) logged.push(`${k}|${step}|${v}`);
      const t0 = performance.now();
      inner.logMetrics(step, record, ts);
      hotPathMs.push(performance.now() - t0);
    },
    setTags: (t) => inner.setTags(t),
    logArtifact: (p, a) => inner.logArtifact(p, a),
    flush: () => inner.flush(),
    endRun: (s) => inner.endRun(s),
    pendingNote: () => inner.pendingNote?.(),
  };
}

describe('fault injection during a real training run', () => {
  it('a server that fails, stalls and drops connections: every metric arrives exactly once, and training never waits', async () => {
    const fake = (server = await FakeMlflowThread.start());
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 16 });
    const logged: string[] = [];
    const hotPathMs: number[] = [];
    const inner = new RestMlflowTracker(fake.url, { env: FAST, retryIntervalMs: 50, drainTimeoutMs: 8000, systemMetricsMs: 0, warn: () => {} });
    const MIN_STALL_MS = 1300;
    let stallFrom = Infinity;
    let stallTo = Infinity;
    let stalled: Promise<void> | undefined;
    const stepTimes: number[] = [];
    const lines: string[] = [];
    await train(recipe, {
      tracker: recording(inner, logged, hotPathMs),
      onLog: (l) => lines.push(l),
      onStep: (step) => {
        stepTimes.push(performance.now());
        if (step === 2) {
          // Held until the server has held a request and for longer than the request timeout,
          // so the sender must give up, keep the events, and resend.
          stallFrom = performance.now();
          stalled = (async () => {
            await fake.stall();
            while ((await fake.snapshot()).stalledTotal === 0 || performance.now() - stallFrom < MIN_STALL_MS) await new Promise((r) => setTimeout(r, 50));
            stallTo = performance.now();
            await fake.unstall();
          })();
        }
        if (step === 6) void fake.failNext(4, 503, { match: /log-batch/ });
        if (step === 8) void fake.dropNext(3);
        if (step === 10) void fake.failNext(3, 502);
        if (step === 13) void fake.dropNext(2, /log-batch/);
      },
    });
    await stalled;
    const snap = await fake.snapshot();
    const run = snap.runs.find((r) => r.info.run_name === 'tiny')!;
    const received = run.metrics.map((m) => `${m.key}|${m.step}|${m.value}`);
    // Exactly once: the same multiset, no duplicates, nothing missing.
    expect([...received].sort()).toEqual([...logged].sort());
    expect(new Set(received).size).toBe(received.length);
    expect(received.filter((r) => r.startsWith('train/loss|')).length).toBe(16);
    expect(run.info.status).toBe('FINISHED');
    expect(Object.keys(run.params).length).toBeGreaterThan(10);
    expect(snap.artifacts.some((k) => k.endsWith('/recipe.resolved.yaml'))).toBe(true);
    // The faults did happen, and training went on through them.
    expect(snap.log.filter((l) => / 50[23]$/.test(l)).length).toBeGreaterThanOrEqual(7);
    expect(snap.stalledTotal).toBeGreaterThan(0);
    const stepsDuringStall = stepTimes.filter((t) => t > stallFrom && t < stallTo).length;
    expect(stepsDuringStall).toBeGreaterThan(3);
    // logMetrics only enqueues: it never waited out a request timeout (1 s), even mid-stall.
    expect(Math.max(...hotPathMs)).toBeLessThan(100);
    expect(lines.some((l) => /pending/.test(l))).toBe(false);
  });

  it('a server that never answers: training finishes, and the end names what is pending and how to send it', async () => {
    const fake = (server = await FakeMlflowThread.start());
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 4 });
    const opts = { env: FAST, retryIntervalMs: 50, drainTimeoutMs: 300, systemMetricsMs: 0, warn: () => {} };
    const lines: string[] = [];
    await fake.stall();
    const t0 = performance.now();
    await train(recipe, { tracker: new RestMlflowTracker(fake.url, opts), onLog: (l) => lines.push(l) });
    expect(performance.now() - t0).toBeLessThan(8000);
    expect(lines.join('\n')).toMatch(/\d+ tracking events pending in .*out\/tracking-spool-[0-9a-f]{8}\.jsonl; send with `bonsai runs push .*out --to http:\/\/127\.0\.0\.1:\d+`/);
  });
});
