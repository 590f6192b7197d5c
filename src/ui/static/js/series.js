// From a run's history columns to chart lines: x in steps, seconds since start or wall
// time; optional smoothing; one y per x (uPlot wants x strictly increasing).
import { runById, state } from './state.js';

/** TensorBoard's debiased exponential moving average; gaps (null) stay gaps. */
export function smooth(values, w) {
  if (!w) return values;
  let last = 0, n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * w + (1 - w) * v; n++;
    return last / (1 - w ** n);
  });
}

/** A run's logged history of `key` (server-thinned columns plus n/min/max), or undefined. */
export const historyOf = (id, key) => state.histories.get(id)?.metrics[key];

/** The keys a run logged; [] until its history is loaded. */
export const keysOf = (id) => Object.keys(state.histories.get(id)?.metrics ?? {});

/**
 * [xs, ys] for run `id`'s metric `key`, or null if it never logged it. `xmode` is 'step',
 * 'relative' (seconds since the run started) or 'wall' (epoch seconds); `transform` maps
 * each value (e.g. a sign flip) before smoothing.
 */
export function seriesFor(id, key, xmode = state.x, transform = (v) => v, smoothing = state.smoothing) {
  const m = historyOf(id, key);
  if (!m || !m.value.length) return null;
  const start = runById(id)?.startTime ?? m.time[0];
  const xs = xmode === 'step' ? m.step : xmode === 'wall' ? m.time.map((t) => t / 1000) : m.time.map((t) => (t - start) / 1000);
  // A resumed run logs some steps twice (the later value wins); wall times need not follow steps.
  const byX = new Map();
  xs.forEach((x, i) => byX.set(x, m.value[i] === null ? null : transform(m.value[i])));
  const sorted = [...byX.keys()].sort((a, b) => a - b);
  return [sorted, smooth(sorted.map((x) => byX.get(x)), smoothing)];
}

/** The last logged value of `key` for run `id` (from the listing, so unpicked runs have it too). */
export const finalOf = (id, key) => runById(id)?.metrics[key]?.value;

/** The prefix a metric groups under: `rewards/probe/mean` → `rewards`. */
export const prefixOf = (key) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '(no prefix)');
