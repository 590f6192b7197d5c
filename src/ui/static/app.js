// The run-comparison page: lists the store's runs, overlays the picked runs' metric curves
// with uPlot, and polls the JSON API so curves grow while a run trains. Plain browser JS,
// no build step, so the server can serve this file as it is.
'use strict';
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const POLL_MS = 2000;
const STEP_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
const state = { runs: [], selected: [], metrics: new Set(), histories: new Map(), smoothing: 0, x: 'step' };
/** Read by the browser test and handy in the console: metric key → its uPlot chart. */
window.bonsaiUi = { charts: new Map(), state };

const $ = (sel) => document.querySelector(sel);
function el(tag, props = {}, ...kids) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...kids);
  return node;
}
const color = (id) => COLORS[state.selected.indexOf(id) % COLORS.length];
const runById = (id) => state.runs.find((r) => r.id === id);
const label = (r) => `${r.name || '(no name)'} ${r.id.slice(0, 8)}`;

async function getJson(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

/** Fetches the run list, and the histories of picked runs that are new or still running. */
async function refresh() {
  const listing = await getJson('/api/runs');
  state.runs = listing.runs;
  $('#location').textContent = listing.location;
  state.selected = state.selected.filter(runById);
  await Promise.all(state.selected.map(async (id) => {
    const prev = state.histories.get(id);
    if (prev && prev.status !== 'RUNNING' && runById(id).status !== 'RUNNING') return;
    const h = await getJson(`/api/runs/${id}/metrics`);
    state.histories.set(id, { status: runById(id).status, metrics: h.metrics });
  }));
  renderRuns(listing.unreadable);
  renderMetricPicker();
  renderChartsIfChanged();
  await renderParams();
  $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function renderRuns(unreadable) {
  const body = $('#runs tbody');
  body.replaceChildren(...state.runs.map((r) => {
    const box = el('input', { type: 'checkbox', checked: state.selected.includes(r.id) });
    box.dataset.run = r.id;
    const sw = el('span', { className: 'swatch' });
    if (state.selected.includes(r.id)) sw.style.background = color(r.id);
    const tr = el('tr', {}, el('td', {}, box), el('td', {}, sw, r.name || '(no name)'), el('td', {}, r.experimentName),
      el('td', { className: `status-${r.status}` }, r.status), el('td', { className: 'dim' }, r.id.slice(0, 8)));
    tr.title = r.id;
    tr.onclick = (e) => { if (e.target !== box) box.checked = !box.checked; toggle(r.id, box.checked); };
    return tr;
  }));
  const u = $('#unreadable');
  u.replaceChildren(...(unreadable.length ? [el('h2', {}, `unreadable (${unreadable.length})`),
    el('ul', {}, ...unreadable.map((x) => el('li', { title: x.reason }, `${x.path}: ${x.reason}`)))] : []));
}

function toggle(id, on) {
  state.selected = on ? [...new Set([...state.selected, id])] : state.selected.filter((x) => x !== id);
  refresh().catch(showError);
}

/** Metric checkboxes: every key of the picked runs; train/loss (else the first) starts checked. */
function renderMetricPicker() {
  const keys = [...new Set(state.selected.flatMap((id) => Object.keys(runById(id).metrics)))].sort();
  for (const k of [...state.metrics]) if (!keys.includes(k)) state.metrics.delete(k);
  if (state.metrics.size === 0 && keys.length) state.metrics.add(keys.includes('train/loss') ? 'train/loss' : keys[0]);
  $('#metrics').replaceChildren(el('legend', {}, 'metrics'), ...keys.map((k) => {
    const box = el('input', { type: 'checkbox', checked: state.metrics.has(k), value: k });
    box.onchange = () => { box.checked ? state.metrics.add(k) : state.metrics.delete(k); renderCharts(); };
    return el('label', {}, box, ` ${k}`);
  }));
  $('#hint').hidden = state.selected.length > 0;
}

/** TensorBoard's debiased exponential moving average; gaps (null) stay gaps. */
function smooth(values, w) {
  if (!w) return values;
  let last = 0, n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * w + (1 - w) * v; n++;
    return last / (1 - w ** n);
  });
}

function seriesFor(id, key) {
  const m = state.histories.get(id)?.metrics[key];
  if (!m) return null;
  const start = runById(id).startTime ?? m.time[0];
  const xs = state.x === 'step' ? m.step : state.x === 'wall' ? m.time.map((t) => t / 1000) : m.time.map((t) => (t - start) / 1000);
  // uPlot wants each table's x strictly increasing: a resumed run logs some steps twice
  // (the later value wins) and wall times need not follow steps.
  const byX = new Map();
  xs.forEach((x, i) => byX.set(x, m.value[i]));
  const sorted = [...byX.keys()].sort((a, b) => a - b);
  return [sorted, smooth(sorted.map((x) => byX.get(x)), state.smoothing)];
}

/** Redraw only when what is drawn changed, so polling does not reset the cursor every 2 s. */
let drawn = '';
const chartSignature = () => JSON.stringify([state.selected, [...state.metrics].sort(), state.smoothing, state.x,
    state.selected.map((id) => Object.values(state.histories.get(id)?.metrics ?? {}).map((m) => m.step.length))]);
function renderChartsIfChanged() {
  if (chartSignature() !== drawn) renderCharts();
}

/** One chart per checked metric, one series per picked run, rebuilt on every refresh. */
function renderCharts() {
  drawn = chartSignature();
  const box = $('#charts');
  for (const c of window.bonsaiUi.charts.values()) c.destroy();
  window.bonsaiUi.charts.clear();
  box.replaceChildren();
  for (const key of [...state.metrics].sort()) {
    const ids = state.selected.filter((id) => seriesFor(id, key));
    if (!ids.length) continue;
    const tables = ids.map((id) => seriesFor(id, key));
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const div = el('div', { className: 'chart' }, el('h3', {}, key));
    div.dataset.metric = key;
    div.dataset.series = String(ids.length);
    box.append(div);
    const chart = new uPlot({
      width: Math.max(320, box.clientWidth - 8), height: 260,
      scales: { x: { time: state.x === 'wall' } },
      // Steps are whole numbers: keep uPlot from putting ticks at 1.5.
      axes: [{ label: state.x === 'step' ? 'step' : state.x === 'wall' ? '' : 'seconds since start', incrs: state.x === 'step' ? STEP_INCRS : undefined }, {}],
      series: [{}, ...ids.map((id) => ({ label: label(runById(id)), stroke: color(id), width: 1.5, spanGaps: true }))],
    }, data, div);
    window.bonsaiUi.charts.set(key, chart);
  }
}

/** The params whose values differ between the picked runs. */
async function renderParams() {
  const sec = $('#params');
  if (state.selected.length < 2) return sec.replaceChildren();
  const p = await getJson(`/api/params?runs=${state.selected.join(',')}`);
  const runs = state.selected.map(runById);
  sec.replaceChildren(el('h2', {}, p.differing.length ? 'params that differ' : 'params: all the same'),
    ...(p.differing.length ? [el('table', { id: 'params-table' },
      el('thead', {}, el('tr', {}, el('th', {}, 'param'), ...runs.map((r) => el('th', { style: `color:${color(r.id)}` }, label(r))))),
      el('tbody', {}, ...p.differing.map((k) => el('tr', {}, el('td', {}, k), ...runs.map((r) => el('td', {}, p.params[r.id]?.[k] ?? '—'))))))] : []));
}

function showError(e) { $('#updated').textContent = `error: ${e.message}`; }

$('#smoothing').oninput = (e) => { state.smoothing = Number(e.target.value); $('#smoothing-value').textContent = e.target.value; renderCharts(); };
$('#xaxis').onchange = (e) => { state.x = e.target.value; renderCharts(); };
refresh().catch(showError);
setInterval(() => refresh().catch(showError), POLL_MS);
