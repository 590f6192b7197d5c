// The run-comparison page: polls the JSON API, and draws the runs table, the design panels,
// the metric grid and the diff view from `state`. Plain browser modules, no build step.
import { loadDiffs, refreshData } from './api.js';
import { drawChart, pruneCharts, registry, resizeCharts } from './chart.js';
import { renderDiff } from './diff.js';
import { $ } from './dom.js';
import { gridPanel, renderPicker } from './grid.js';
import { freezingPanel } from './panels/freezing.js';
import { gradientsPanel } from './panels/gradients.js';
import { interventionsPanel } from './panels/interventions.js';
import { probesPanel } from './panels/probes.js';
import { rewardsPanel } from './panels/rewards.js';
import { systemPanel } from './panels/system.js';
import { renderRunsTable } from './runs-table.js';
import { pickedRuns, readUrl, state, writeUrl } from './state.js';

const POLL_MS = 2000;
const PANELS = [rewardsPanel, probesPanel, gradientsPanel, freezingPanel, interventionsPanel, systemPanel];
window.bonsaiUi = { ...registry, state };

/** Rebuilds the panels and the grid; charts are reused by id, so only changed data moves. */
function drawAll() {
  const runs = pickedRuns();
  $('#hint').hidden = runs.length > 0;
  const drawn = new Set();
  const panels = runs.length ? PANELS.map((make) => make(runs)) : [];
  const grid = gridPanel();
  $('#panels').replaceChildren(...panels.map((p) => p.root));
  $('#grid').replaceChildren(grid.root);
  registry.panels = {};
  for (const p of [...panels, grid]) {
    registry.panels[p.name] = p.charts.map((c) => c.spec.id);
    for (const c of p.charts) {
      drawChart(c.box, c.spec);
      drawn.add(c.spec.id);
    }
  }
  pruneCharts(drawn);
  window.bonsaiUi.panels = registry.panels;
}

function renderAll() {
  $('#location').textContent = state.location;
  renderRunsTable(toggle);
  renderPicker(drawAll);
  drawAll();
}

function toggle(id, on) {
  state.selected = on ? [...new Set([...state.selected, id])] : state.selected.filter((x) => x !== id);
  writeUrl();
  tick(true);
}

let busy = false;
/** One poll: fetch, then redraw what changed (the table always: durations of running runs move). */
async function tick(force = false) {
  if (busy) return;
  busy = true;
  try {
    const changed = await refreshData();
    if (changed || force) renderAll();
    else renderRunsTable(toggle);
    $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    $('#updated').classList.remove('error');
  } catch (e) {
    $('#updated').textContent = `error: ${e.message}`;
    $('#updated').classList.add('error');
  } finally {
    busy = false;
  }
}

function wireControls() {
  const sm = $('#smoothing');
  sm.value = String(state.smoothing);
  $('#smoothing-value').textContent = sm.value;
  sm.oninput = () => { state.smoothing = Number(sm.value); $('#smoothing-value').textContent = sm.value; writeUrl(); drawAll(); };
  const xa = $('#xaxis');
  xa.value = state.x;
  xa.onchange = () => { state.x = xa.value; writeUrl(); drawAll(); };
  const f = $('#filter');
  f.value = state.filter;
  f.oninput = () => { state.filter = f.value; writeUrl(); renderRunsTable(toggle); };
  window.addEventListener('resize', resizeCharts);
}

readUrl();
wireControls();
loadDiffs().then(renderDiff).catch((e) => ($('#diff').textContent = `error: ${e.message}`));
tick(true);
setInterval(() => tick(), POLL_MS);
