import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { sanitizeKeyWarnOnce } from './keys.ts';
import { metricLine } from './layout.ts';

interface Pending {
  key: string;
  line: string;
}

/**
 * Holds metric values in memory and appends them to a run's `metrics/<key>` files in
 * batches, so a training step costs a few string operations, never a disk write.
 */
export class MetricBuffer {
  private pending: Pending[] = [];
  private keys = new Map<string, string>(); // raw key → sanitised key, so a step does not re-validate
  private madeDirs = new Set<string>();
  private writing: Promise<void> = Promise.resolve(); // batches are written one after another, in order
  private timer?: NodeJS.Timeout;
  private warned = false;

  /** @param metricsDir the run's `metrics` folder; undefined until a run is open */
  constructor(private readonly metricsDir: () => string | undefined) {}

  /** Queues one step's values as MLflow lines `"<timestamp_ms> <value> <step>\n"`. Never throws. */
  add(step: number, record: Record<string, number>, timestampMs?: number): void {
    try {
      const ts = Math.max(0, Math.round(timestampMs ?? Date.now()));
      const s = Number.isFinite(step) ? Math.trunc(step) : 0;
      for (const rawKey in record) {
        const value = record[rawKey];
        if (typeof value !== 'number') continue;
        let key = this.keys.get(rawKey);
        if (key === undefined) this.keys.set(rawKey, (key = sanitizeKeyWarnOnce(rawKey, 'metric')));
        this.pending.push({ key, line: metricLine(ts, value, s) });
      }
    } catch {
      // Losing one metric is better than stopping a training run.
    }
  }

  /** Appends everything queued; values stay queued while no run is open. */
  flush(): Promise<void> {
    const dir = this.metricsDir();
    if (!dir || this.pending.length === 0) return this.writing;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.catch(() => {}).then(() => this.append(dir, batch));
    return this.writing;
  }

  /** Flushes every `everyMs` in the background; the timer never keeps the process alive. */
  start(everyMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.flush().catch((e: unknown) => {
        if (this.warned) return;
        this.warned = true; // once: a full disk would otherwise warn every interval
        console.warn(`bonsai: could not write metrics: ${(e as Error).message}`);
      });
    }, everyMs);
    this.timer.unref();
  }

  /** Stops the background flush. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One append per metric file per batch, not one per value. */
  private async append(dir: string, batch: Pending[]): Promise<void> {
    const byKey = new Map<string, string>();
    for (const p of batch) byKey.set(p.key, (byKey.get(p.key) ?? '') + p.line);
    for (const [key, text] of byKey) {
      const path = join(dir, key);
      try {
        if (!this.madeDirs.has(dirname(path))) {
          await fsp.mkdir(dirname(path), { recursive: true });
          this.madeDirs.add(dirname(path));
        }
        await fsp.appendFile(path, text);
        byKey.delete(key);
      } catch (e) {
        // Put back what was not written, ahead of newer values, so the next flush retries it.
        this.pending.unshift(...batch.filter((p) => byKey.has(p.key)));
        throw new BonsaiError(`could not write metric ${key} to ${path}`, { cause: e });
      }
    }
  }
}
