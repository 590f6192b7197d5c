/**
 * Training progress for a terminal or a log file. On a TTY one line is redrawn in place
 * (at most ~10 times a second, so printing never slows training); elsewhere (CI logs,
 * `tee`, Ray job logs) plain lines every `logEvery` steps, with no control characters.
 */

/** What a progress line can show; extra numeric fields print as `name value`. */
export interface ProgressFields {
  loss?: number;
  tokensPerSec?: number;
  lr?: number;
  [name: string]: number | undefined;
}

/** Where progress is written: `process.stdout` or anything with `write`. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options for `createProgress`. */
export interface ProgressOptions {
  /** The last step. */
  total: number;
  stream?: ProgressStream;
  /** Redraw one line (true) or print log lines (false); defaults to `stream.isTTY`. */
  isTTY?: boolean;
  /** Without a TTY, print every this many steps (and the last). Default 10. */
  logEvery?: number;
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

/** A running progress display. */
export interface Progress {
  /** Records the state after `step`; draws or prints when due. */
  update(step: number, fields?: ProgressFields): void;
  /** Prints a message without breaking the bar (on a TTY it is drawn again below). */
  log(line: string): void;
  /** Draws the final state and ends the bar's line. Idempotent. */
  done(): void;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 20;
const EMA_ALPHA = 0.1; // smooths over ~10 steps: steady, yet follows a real change of pace
const CLEAR_LINE = '\r\x1b[2K';

/** Creates a progress display for a run of `total` steps. */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stdout;
  const tty = opts.isTTY ?? Boolean(stream.isTTY);
  const logEvery = Math.max(1, Math.floor(opts.logEvery ?? 10));
  const now = opts.now ?? Date.now;
  const total = Math.max(0, opts.total);
  let step = 0;
  let fields: ProgressFields = {};
  let seen = false; // any update yet
  let last: { step: number; t: number } | undefined;
  let msPerStep: number | undefined;
  let drawnAt = -Infinity;
  let barShown = false;
  let printedStep = -1;
  let finished = false;

  const render = (withBar: boolean): string => {
    const parts = [formatFields(fields)];
    if (msPerStep !== undefined && step < total) parts.push(`ETA ${formatDuration(msPerStep * (total - step))}`);
    const info = parts.filter(Boolean).join(' · ');
    const head = `step ${step}/${total}${withBar ? ` ${bar(step, total)}` : ''}`;
    return info ? `${head} ${info}` : head;
  };
  const draw = () => {
    let line = render(true);
    if (stream.columns && line.length >= stream.columns) line = line.slice(0, stream.columns - 1);
    stream.write(CLEAR_LINE + line);
    barShown = true;
    drawnAt = now();
  };
  const print = () => {
    stream.write(render(false) + '\n');
    printedStep = step;
  };

  return {
    update(s, f = {}) {
      if (finished) return;
      const t = now();
      if (last && s > last.step) {
        const dt = (t - last.t) / (s - last.step);
        msPerStep = msPerStep === undefined ? dt : msPerStep + EMA_ALPHA * (dt - msPerStep);
      }
      // Timing starts at the first update: setup and the first (compiling) step are not pace.
      if (!last || s > last.step) last = { step: s, t };
      step = s;
      fields = f;
      seen = true;
      if (tty) {
        if (t - drawnAt >= REDRAW_MS || s >= total) draw();
      } else if ((s % logEvery === 0 || s >= total) && s !== printedStep) print();
    },
    log(line) {
      if (tty && barShown) {
        stream.write(`${CLEAR_LINE}${line}\n`);
        draw();
      } else stream.write(`${line}\n`);
    },
    done() {
      if (finished) return;
      finished = true;
      if (tty) {
        if (seen) draw();
        if (barShown) stream.write('\n');
      } else if (seen && printedStep !== step) print();
    },
  };
}

function bar(step: number, total: number): string {
  const filled = total > 0 ? Math.round((Math.min(step, total) / total) * BAR_WIDTH) : BAR_WIDTH;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

function formatFields(f: ProgressFields): string {
  const out: string[] = [];
  if (f.loss !== undefined) out.push(`loss ${formatNumber(f.loss)}`);
  if (f.tokensPerSec !== undefined) out.push(`${formatRate(f.tokensPerSec)} tok/s`);
  if (f.lr !== undefined) out.push(`lr ${f.lr.toExponential(1)}`);
  for (const [k, v] of Object.entries(f)) {
    if (v !== undefined && k !== 'loss' && k !== 'tokensPerSec' && k !== 'lr') out.push(`${k} ${formatNumber(v)}`);
  }
  return out.join(' · ');
}

/** 4 significant digits in a readable range (`2.314`, `0.5`, `1234`), else `1.23e-5`. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0 || (a >= 1e-3 && a < 1e4)) return String(Number(x.toPrecision(4)));
  return x.toExponential(2);
}

/** `980`, `12.3k`, `4.5M`. */
export function formatRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return String(Math.round(x));
}

/** `45s`, `1m12s`, `2h05m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
