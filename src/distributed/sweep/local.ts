/**
 * Running a sweep's points on this machine: each point is its own `bonsai train` process
 * (a crash or an out-of-memory in one cannot take the others down, and each gets a fresh
 * backend), up to `parallel` at once, output prefixed with the point. A failed point is
 * recorded and the rest go on.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { latestCheckpoint } from '../../models/checkpoint.ts';
import type { PlannedPoint } from './plan.ts';

/** The `bonsai` entry point, run with this Node. */
const BIN = fileURLToPath(new URL('../../../bin/bonsai.js', import.meta.url));
/** Lines of a failed point's output kept to say why it failed. */
const TAIL_LINES = 6;

/** How one point's process ended. */
export interface PointOutcome {
  point: PlannedPoint;
  ok: boolean;
  /** Exit code, or the signal that ended it. */
  exit: number | string;
  seconds: number;
  /** Its last lines of stderr (stdout if stderr was empty), for the failure summary. */
  tail: string[];
  /** True when it continued from a checkpoint an earlier attempt left. */
  resumed: boolean;
}

export interface LocalRunOptions {
  recipeFile: string;
  /** Points run at once. */
  parallel: number;
  /** Extra environment per point (the parent run id and the point's tags). */
  envFor(point: PlannedPoint): Record<string, string>;
  /** Where output lines go (already prefixed). */
  write(line: string): void;
  /** Set `requested` to stop launching points (Ctrl-C); running ones finish or stop themselves. */
  interrupt?: { requested: boolean };
}

/** The `bonsai train` arguments of a point; `--resume` when an earlier attempt left a checkpoint. */
export function trainArgs(recipeFile: string, point: PlannedPoint): { args: string[]; resumed: boolean } {
  const resumed = latestCheckpoint(point.outDir) !== undefined;
  const args = ['train', recipeFile, ...point.trainSets.flatMap((s) => ['--set', s]), ...(resumed ? ['--resume'] : [])];
  return { args, resumed };
}

/** Runs one point to its end; never rejects (a spawn failure is a failed point). */
function runPoint(point: PlannedPoint, o: LocalRunOptions): Promise<PointOutcome> {
  const started = performance.now();
  const { args, resumed } = trainArgs(o.recipeFile, point);
  const prefix = `[${point.index} ${point.label}]`;
  o.write(`${prefix} start${resumed ? ' (resuming from its checkpoint)' : ''}: bonsai ${args.map((a) => (/^[\w./=,:-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`);
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...o.envFor(point) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const errTail: string[] = [];
  const outTail: string[] = [];
  const pipe = (stream: NodeJS.ReadableStream, tail: string[]) =>
    new Promise<void>((done) => {
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        o.write(`${prefix} ${line}`);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      });
      lines.on('close', done);
    });
  const piped = Promise.all([pipe(child.stdout, outTail), pipe(child.stderr, errTail)]);
  return new Promise((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e));
    child.on('close', async (code, signal) => {
      await piped;
      const exit = spawnError ? `spawn failed: ${spawnError.message}` : (signal ?? code ?? -1);
      const tail = errTail.length ? errTail : outTail;
      resolve({ point, ok: exit === 0, exit, seconds: (performance.now() - started) / 1000, tail, resumed });
    });
  });
}

/**
 * Runs `points` with up to `parallel` processes at once, in order. Resolves when every
 * launched point has ended; points not launched because of an interrupt are left out.
 */
export async function runPointsLocally(points: PlannedPoint[], o: LocalRunOptions): Promise<PointOutcome[]> {
  const queue = [...points];
  const outcomes: PointOutcome[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (o.interrupt?.requested) return;
      const outcome = await runPoint(next, o);
      outcomes.push(outcome);
      const how = outcome.ok ? 'finished' : `FAILED (exit ${outcome.exit})`;
      o.write(`[${next.index} ${next.label}] ${how} in ${outcome.seconds.toFixed(1)} s`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, points.length)) }, worker));
  return outcomes.sort((a, b) => a.point.index - b.point.index);
}
