import type { StartRecord, TrackEvent } from './events.ts';
import type { MlflowRestClient } from './rest-client.ts';
import { Delivery, keepForLater } from './shipper.ts';
import { Spool } from './spool.ts';

export interface SenderOptions {
  queueLimit: number;
  retryIntervalMs: number;
  warn: (line: string) => void;
}

/**
 * The background half of the server tracker: a bounded in-memory queue, one sender that
 * drains it, and the spool file that takes over whenever the server cannot be reached or
 * the queue is full. The spool is replayed before newer events, and every delivery is
 * acknowledged in it, so each event reaches the server once.
 */
export class BackgroundSender {
  readonly spool: Spool;
  /** The server run (once created) and the delivered and refused counts. */
  readonly delivery: Delivery;
  private queue: TrackEvent[] = [];
  private sending?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private warnedOffline = false;
  private warnedSpool = false;
  /** close() was called: nothing more is accepted. */
  private stopped = false;
  /** The server refused the run for good: events go straight to the spool. */
  private halted = false;

  constructor(private readonly client: MlflowRestClient, readonly start: StartRecord, spoolPath: string, private readonly o: SenderOptions) {
    this.spool = new Spool(spoolPath, () => [this.start, ...(this.delivery.run ? [this.delivery.run] : [])]);
    this.delivery = new Delivery(client, start, this.spool, undefined, (n, why) => o.warn(`bonsai: tracking server refused ${n} event(s): ${why}`));
  }

  /** Events not yet acknowledged by the server (queued or spooled). */
  get pending(): number {
    return this.spool.unacked + this.queue.length;
  }

  /** The server did not answer at start: say so once, put the start record on disk, retry later. */
  async startOffline(reason: string): Promise<void> {
    this.o.warn(`bonsai: tracking server ${this.client.display} unreachable (${reason}); training goes on, events are kept in ${this.spool.path} and sent when it answers`);
    this.warnedOffline = true;
    await this.spool.append([]); // a crash now still leaves a pushable spool
    this.scheduleRetry();
  }

  /** Takes one event; never blocks and never throws. */
  enqueue(e: TrackEvent): void {
    if (this.stopped) return;
    if (this.halted) return void this.spool.append([e]).catch(() => {});
    this.queue.push(e);
    // Bounded memory: past the limit, events wait on disk instead.
    if (this.queue.length > this.o.queueLimit) void this.spill().catch(() => {});
    if (!this.retryTimer) this.kick();
  }

  /**
   * Waits up to `drainTimeoutMs` for delivery, then stops: a request still in flight is
   * aborted (its events return to the queue) and whatever is undelivered goes to the spool.
   */
  async close(drainTimeoutMs: number): Promise<void> {
    const drained = await this.drain(drainTimeoutMs);
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.client.close();
    await this.sending;
    if (!drained) await this.spill().catch((e: unknown) => this.o.warn(`bonsai: could not write the tracking spool: ${(e as Error).message}`));
    await this.spool.idle();
  }

  private kick(): void {
    if (this.sending || this.stopped || this.halted) return;
    this.sending = this.send().finally(() => {
      this.sending = undefined;
      if (!this.retryTimer && (this.queue.length || this.spool.unacked) && !this.stopped) this.kick();
    });
  }

  /** The background sender: create the run if needed, replay the spool, then the queue. */
  private async send(): Promise<void> {
    const spool = this.spool;
    try {
      await this.delivery.ensureRun();
      while (spool.unacked > 0 && !this.stopped) {
        const pending = (await spool.read()).pending.filter((e) => spool.has(e.id));
        if (!pending.length) break; // ids whose lines never reached the disk: nothing to send
        await this.delivery.send(pending);
      }
      while (this.queue.length && !this.stopped) {
        const batch = this.queue;
        this.queue = [];
        const sent = new Set<string>();
        try {
          await this.delivery.send(batch, (ids) => ids.forEach((id) => sent.add(id)));
        } catch (e) {
          // Undelivered events go back ahead of newer ones; spill() moves them to disk below.
          this.queue = [...batch.filter((ev) => !sent.has(ev.id) && !spool.has(ev.id)), ...this.queue];
          throw e;
        }
      }
      if (this.warnedOffline && spool.unacked === 0) this.o.warn(`bonsai: tracking server ${this.client.display} answers again; spooled events sent`);
      this.warnedOffline = false;
    } catch (e) {
      if (!keepForLater(e) && !this.delivery.run) {
        // The server refuses to create the run (say, a deleted experiment): retrying cannot
        // help, so stop sending and keep everything in the spool for a later `runs push`.
        this.o.warn(`bonsai: tracking: ${(e as Error).message}; events are kept in ${spool.path}`);
        this.halted = true;
        await this.spill().catch(() => {});
        return;
      }
      if (!keepForLater(e)) this.o.warn(`bonsai: tracking: ${(e as Error).message}`);
      if (!this.warnedOffline) this.o.warn(`bonsai: tracking server ${this.client.display} unreachable (${(e as Error).message}); events are kept in ${spool.path} and sent when it answers`);
      this.warnedOffline = true;
      await this.spill().catch(() => {});
      this.scheduleRetry();
    }
  }

  /** Moves the in-memory queue to the spool file. */
  private spill(): Promise<void> {
    const events = this.queue;
    this.queue = [];
    return this.spool.append(events).catch((e: unknown) => {
      // Memory stays bounded, so these are gone; say so once rather than every step.
      if (!this.warnedSpool) this.o.warn(`bonsai: could not write the tracking spool ${this.spool.path} (${(e as Error).message}); ${events.length} events were lost`);
      this.warnedSpool = true;
    });
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.o.retryIntervalMs);
    this.retryTimer.unref();
  }

  /** Resolves true once nothing is queued, in flight or spooled; false at the deadline. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.sending && !this.queue.length && !this.spool.unacked) return true;
      if (Date.now() >= deadline || (this.halted && !this.sending)) return false;
      if (!this.sending && this.retryTimer) {
        // Waiting out the retry interval would only waste the drain time: try now.
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.kick();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
