// Every chart on the page: one uPlot per spec, keyed by id and reused across redraws (new
// data goes in with setData, so a poll neither flickers nor loses the cursor). Charts of one
// x kind share a cursor and a zoom; the zoom lives in the state (and URL), so it survives
// refreshes and new charts open zoomed like the rest.
import { alpha } from './colors.js';
import { el, fmt } from './dom.js';
import { state, writeUrl } from './state.js';

/** Read by the browser test and handy in the console: chart id → uPlot, and each panel's chart ids. */
export const registry = { charts: new Map(), panels: {} };
const meta = new Map(); // id → { sig, kind }
let programmatic = false;
const STEP_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/** Charts with the same x axis (steps, seconds since start, wall time) share cursor and zoom. */
const kindOf = (xmode) => xmode;

/**
 * Draws (or updates) chart `spec.id` inside `box`. A spec: { id, xmode, lines: [{ label,
 * color, xs, ys, dash?, band?: { lo, hi } }], yLabel? }. Lines with no points are left out.
 */
export function drawChart(box, spec) {
  const lines = spec.lines.filter((l) => l.xs.length);
  const tables = [];
  const series = [{}];
  const bands = [];
  const legendAt = []; // series index of each line (bands are not in the legend)
  for (const l of lines) {
    tables.push([l.xs, l.ys]);
    legendAt.push(series.length);
    series.push({ label: l.label, stroke: l.color, width: 1.6, dash: l.dash, spanGaps: true, points: { show: l.xs.length < 30 } });
    if (l.band) {
      const at = series.length - 1;
      tables.push([l.xs, l.band.hi], [l.xs, l.band.lo]);
      series.push({ label: `${l.label} +std`, stroke: alpha(l.color, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
        { label: `${l.label} −std`, stroke: alpha(l.color, 0.35), width: 0.5, spanGaps: true, points: { show: false } });
      bands.push({ series: [at + 1, at], fill: alpha(l.color, 0.15) }, { series: [at, at + 2], fill: alpha(l.color, 0.15) });
    }
  }
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  const kind = kindOf(spec.xmode);
  const sig = JSON.stringify([spec.xmode, series.map((s) => [s.label, s.stroke, s.dash])]);
  const old = registry.charts.get(spec.id);
  const width = Math.max(280, box.clientWidth || 400);
  if (old && meta.get(spec.id).sig === sig) {
    box.append(old.root);
    programmatic = true;
    old.setData(data, !state.zoom[kind]);
    if (old.width !== width) old.setSize({ width, height: old.height });
    programmatic = false;
    return old;
  }
  old?.destroy();
  const u = new uPlot({
    width, height: spec.height ?? 220, bands,
    cursor: { sync: { key: kind }, focus: { prox: 16 } },
    focus: { alpha: 0.35 },
    scales: { x: { time: spec.xmode === 'wall' }, y: { range: yRange } },
    legend: { show: false },
    axes: [
      { label: spec.xmode === 'step' ? 'step' : spec.xmode === 'wall' ? '' : 'seconds since start', incrs: spec.xmode === 'step' ? STEP_INCRS : undefined, stroke: '#333' },
      { label: spec.yLabel, stroke: '#333', size: 56 },
    ],
    series,
    hooks: { setScale: [(self, key) => key === 'x' && onZoom(self, kind)], setCursor: [(self) => showValues(self)] },
  }, data, box);
  u.root.append(legend(lines, legendAt));
  u.root.dataset.chart = spec.id;
  u.root.dataset.series = String(lines.length);
  registry.charts.set(spec.id, u);
  meta.set(spec.id, { sig, kind });
  if (state.zoom[kind]) apply(u, state.zoom[kind]);
  return u;
}

/** uPlot's padded range, but a flat line gets ±1 around its value (not uPlot's 0..100). */
function yRange(u, min, max) {
  if (min === null || max === null) return [0, 1];
  if (min === max) return [min - Math.max(1, Math.abs(min) * 0.1), max + Math.max(1, Math.abs(max) * 0.1)];
  return uPlot.rangeNum(min, max, 0.1, true);
}

/** One entry per line: swatch (dashed for a dashed line), label, and the value under the cursor. */
function legend(lines, at) {
  return el('div', { className: 'legend' }, ...lines.map((l, i) => el('span', { className: 'entry', dataset: { series: String(at[i]), color: l.color } },
    el('span', { className: 'key', style: `border-top: 3px ${l.dash ? 'dashed' : 'solid'} ${l.color}` }), l.label, el('span', { className: 'value' }))));
}

function showValues(u) {
  const i = u.cursor.idx;
  for (const e of u.root.querySelectorAll('.legend .entry')) {
    const v = i === null || i === undefined ? undefined : u.data[Number(e.dataset.series)][i];
    e.lastChild.textContent = v === undefined ? '' : ` ${fmt(v)}`;
  }
}

function apply(u, z) {
  programmatic = true;
  u.setScale('x', z ?? { min: u.data[0][0], max: u.data[0][u.data[0].length - 1] });
  programmatic = false;
}

/** A user zoomed (drag) or reset (double-click) one chart: remember it and zoom the others alike. */
function onZoom(u, kind) {
  if (programmatic) return;
  const { min, max } = u.scales.x;
  const xs = u.data[0];
  const whole = min <= xs[0] && max >= xs[xs.length - 1];
  state.zoom[kind] = whole ? null : { min, max };
  writeUrl();
  for (const [id, other] of registry.charts) if (other !== u && meta.get(id).kind === kind) apply(other, state.zoom[kind]);
}

/** Destroys the charts not drawn in the last pass (`keep`: ids drawn). */
export function pruneCharts(keep) {
  for (const [id, u] of registry.charts) {
    if (keep.has(id)) continue;
    u.destroy();
    registry.charts.delete(id);
    meta.delete(id);
  }
}

/** Refits every chart to its box (window resize). */
export function resizeCharts() {
  for (const u of registry.charts.values()) {
    const w = u.root.parentElement?.clientWidth;
    if (w && Math.abs(w - u.width) > 4) u.setSize({ width: Math.max(280, w), height: u.height });
  }
}
