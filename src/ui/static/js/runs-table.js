// The runs table: status, start, duration, backend, the params that differ between the
// rows shown, and final / best of the key metrics. Filter and sort live in the URL. It is
// rebuilt on every poll (a running run's status, duration and values move), keeping focus.
import { colorOf } from './colors.js';
import { $, el, fmt, fmtDuration, fmtTime } from './dom.js';
import { historyOf } from './series.js';
import { state, writeUrl } from './state.js';

/** Key metrics: final value, and best over the whole history (min or max), once the run is picked. */
const KEY_METRICS = [['train/loss', 'min'], ['eval/loss', 'min'], ['rewards/total/mean', 'max']];
const MAX_PARAM_COLUMNS = 8;

const backendOf = (r) => r.tags['bonsai.backend'] ?? r.params.backend ?? '—';
const durationMs = (r) => (r.startTime === undefined ? -1 : (r.endTime ?? Date.now()) - r.startTime);

function matches(r, f) {
  if (!f) return true;
  const hay = [r.name, r.id, r.experimentName, r.status, backendOf(r), ...Object.entries(r.params).map(([k, v]) => `${k}=${v}`)].join('\n').toLowerCase();
  return f.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

function sortValue(r, key) {
  if (key === 'start') return r.startTime ?? 0;
  if (key === 'duration') return durationMs(r);
  if (key === 'backend') return backendOf(r);
  if (key.startsWith('p:')) return r.params[key.slice(2)] ?? '';
  if (key.startsWith('m:')) return r.metrics[key.slice(2)]?.value ?? -Infinity;
  return String(r[key] ?? '');
}

/** The runs the table shows: filtered, sorted. */
export function shownRuns() {
  const { key, dir } = state.sort;
  return state.runs.filter((r) => matches(r, state.filter)).sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true })) * dir;
  });
}

/** Names and paths differ between any two runs, so they say little: their columns go last. */
const isNoise = (k, runs) => k === 'run.name' || k === 'run.out_dir' || runs.some((r) => /^(\/|\.\.?\/|[A-Za-z]:\\)/.test(r.params[k] ?? ''));

/**
 * Param keys whose values differ between `runs`: first those more runs set (a learning rate
 * swept over every run says more than a key only some recipes have), names and paths last.
 */
export function differing(runs) {
  const count = new Map();
  for (const r of runs) for (const k of Object.keys(r.params)) count.set(k, (count.get(k) ?? 0) + 1);
  const score = (k) => (isNoise(k, runs) ? -1 : count.get(k));
  return [...count.keys()].filter((k) => new Set(runs.map((r) => r.params[k])).size > 1)
    .sort((a, b) => score(b) - score(a) || a.localeCompare(b));
}

function header(label, key) {
  const sorted = state.sort.key === key;
  const b = el('button', { type: 'button', className: 'sort', dataset: { focus: `sort:${key}` } }, label, sorted ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : '');
  b.onclick = () => {
    state.sort = { key, dir: sorted ? -state.sort.dir : key === 'name' || key.startsWith('p:') ? 1 : -1 };
    writeUrl();
    renderRunsTable();
  };
  return el('th', { ariaSort: sorted ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none', title: key.startsWith('p:') ? key.slice(2) : '' }, b);
}

/** `onToggle(id, on)` is called when a run is picked or unpicked. */
export function renderRunsTable(onToggle = renderRunsTable.onToggle) {
  renderRunsTable.onToggle = onToggle;
  const focus = document.activeElement?.dataset?.focus;
  const rows = shownRuns();
  const params = differing(rows);
  const shownParams = params.slice(0, MAX_PARAM_COLUMNS);
  const metrics = KEY_METRICS.filter(([k]) => rows.some((r) => r.metrics[k]));
  const head = el('tr', {}, el('th', {}, el('span', { className: 'sr-only' }, 'pick')), header('name', 'name'), header('experiment', 'experimentName'),
    header('status', 'status'), header('started (UTC)', 'start'), header('time', 'duration'), header('backend', 'backend'),
    ...metrics.map(([k, best]) => header(`${k} final · ${best}`, `m:${k}`)),
    ...shownParams.map((p) => header(p, `p:${p}`)));
  const body = rows.map((r) => {
    const on = state.selected.includes(r.id);
    const box = el('input', { type: 'checkbox', checked: on, dataset: { run: r.id, focus: `run:${r.id}` } });
    box.setAttribute('aria-label', `pick run ${r.name || r.id}`);
    box.onchange = () => onToggle(r.id, box.checked);
    const sw = el('span', { className: 'swatch', style: on ? `background:${colorOf(state.selected, r.id)}` : '' });
    const tr = el('tr', { className: on ? 'picked' : '', title: r.id, dataset: { row: r.id } },
      el('td', {}, box, sw), el('td', { className: 'name' }, r.name || '(no name)'), el('td', {}, r.experimentName),
      el('td', { className: `status status-${r.status}` }, r.status), el('td', {}, fmtTime(r.startTime)), el('td', {}, fmtDuration(r)),
      el('td', {}, backendOf(r)),
      ...metrics.map(([k, best]) => {
        const h = historyOf(r.id, k);
        const b = h ? h[best] : undefined;
        return el('td', { className: 'num', title: h ? `${best} over ${h.n} points` : 'pick the run to read its best value' }, fmt(r.metrics[k]?.value), el('span', { className: 'dim' }, ` · ${fmt(b)}`));
      }),
      ...shownParams.map((p) => el('td', { className: 'param' }, r.params[p] ?? '—')));
    tr.onclick = (e) => { if (e.target.tagName !== 'INPUT') { box.checked = !box.checked; onToggle(r.id, box.checked); } };
    return tr;
  });
  $('#runs').replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
  $('#runs-note').textContent = `${rows.length} of ${state.runs.length} runs` + (params.length > shownParams.length ? `; ${params.length - shownParams.length} more differing params: ${params.slice(MAX_PARAM_COLUMNS).join(', ')}` : '') + (params.length === 0 && rows.length > 1 ? '; params: all the same' : '');
  const u = $('#unreadable');
  u.replaceChildren(...(state.unreadable.length ? [el('h3', {}, `unreadable (${state.unreadable.length})`),
    el('ul', {}, ...state.unreadable.map((x) => el('li', {}, el('code', {}, x.path), `: ${x.reason}`)))] : []));
  if (focus) document.querySelector(`[data-focus="${CSS.escape(focus)}"]`)?.focus();
}
