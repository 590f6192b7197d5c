/**
 * The spool: an append-only JSONL file in the run's folder holding the events a server
 * has not acknowledged. Lines are the start record, the run record once the server run
 * exists, events, and `{"kind":"ack","ids":[…]}`; an event is pending until acked, so a
 * replay (in this process or by `bonsai runs push`) sends each event once.
 */
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { RunRecord, StartRecord, TrackEvent } from './events.ts';

interface AckRecord {
  kind: 'ack';
  ids: string[];
  /** Set when the server refused the events for good (they are not retried). */
  rejected?: string;
}

/** What a spool file holds, read back. */
export interface SpoolContents {
  start?: StartRecord;
  run?: RunRecord;
  /** Unacknowledged events, in the order they were logged. */
  pending: TrackEvent[];
  /** Ids already delivered or refused. */
  acked: Set<string>;
}

export class Spool {
  private chain: Promise<void> = Promise.resolve();
  private created = false;
  private readonly unackedIds = new Set<string>();

  /** @param header written before the first event, so the file alone can recreate the run */
  constructor(readonly path: string, private readonly header: () => Array<StartRecord | RunRecord>) {}

  /** Number of events written and not acknowledged. */
  get unacked(): number {
    return this.unackedIds.size;
  }
  has(id: string): boolean {
    return this.unackedIds.has(id);
  }
  get exists(): boolean {
    return this.created;
  }

  /**
   * Takes over an existing file (a push in a later process): `ids` are pending events
   * already on disk (or, for a local run, events that exist only in its folder).
   */
  adopt(ids: string[], fileExists: boolean): void {
    for (const id of ids) this.unackedIds.add(id);
    this.created = fileExists;
  }

  /** Appends events (after the header, the first time). Writes are serialised, in call order. */
  append(events: TrackEvent[]): Promise<void> {
    for (const e of events) this.unackedIds.add(e.id);
    return this.write(() => [...(this.created ? [] : this.header()), ...events]);
  }

  /** Records the server's run, so a later push continues it rather than making another. */
  noteRun(run: RunRecord): Promise<void> {
    return this.created ? this.write(() => [run]) : this.chain;
  }

  /** Marks events as delivered (or refused for good, with the reason). */
  ack(ids: string[], rejected?: string): Promise<void> {
    const mine = ids.filter((id) => this.unackedIds.delete(id));
    if (!mine.length) return this.chain;
    return this.write(() => [{ kind: 'ack', ids: mine, ...(rejected ? { rejected } : {}) } as AckRecord]);
  }

  /** Resolves when every write so far is on disk. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Reads this spool's pending events (after pending writes land). */
  async read(): Promise<SpoolContents> {
    await this.chain;
    return readSpool(this.path);
  }

  private write(records: () => object[]): Promise<void> {
    this.chain = this.chain.then(async () => {
      const text = records().map((r) => JSON.stringify(r)).join('\n') + '\n';
      if (!this.created) await fsp.mkdir(dirname(this.path), { recursive: true });
      await fsp.appendFile(this.path, text);
      this.created = true;
    });
    // A failed write must not wedge every later one; the caller sees this failure.
    const mine = this.chain;
    this.chain = this.chain.catch(() => {});
    return mine;
  }
}

/**
 * Reads a spool file: the start and latest run record, and the events not acked. A torn
 * last line (the process died mid-write) is skipped rather than failing the whole file.
 */
export async function readSpool(path: string): Promise<SpoolContents> {
  const text = await fsp.readFile(path, 'utf8');
  const out: SpoolContents = { pending: [], acked: new Set() };
  const events = new Map<string, TrackEvent>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: (TrackEvent | StartRecord | RunRecord | AckRecord) & { kind: string };
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (r.kind === 'start') out.start = r as StartRecord;
    else if (r.kind === 'run') out.run = r as RunRecord;
    else if (r.kind === 'ack') {
      for (const id of (r as AckRecord).ids) {
        events.delete(id);
        out.acked.add(id);
      }
    }
    else if ('id' in r) events.set(r.id, r as TrackEvent);
  }
  out.pending = [...events.values()];
  return out;
}
