// The metric grid: every metric of the picked runs, in one fieldset per prefix (train/,
// eval/, rewards/, probes/, gradients/, freeze/, system/, …); the checked ones drawn as a
// grid of charts under the same headings. Checked metrics live in the URL.
import { el } from './dom.js';
import { Panel, runLines } from './panels/common.js';
import { keysOf, prefixOf } from './series.js';
import { DEFAULT_METRICS, pickedRuns, state, writeUrl } from './state.js';

const ORDER = ['train', 'eval', 'rewards', 'probes', 'gradients', 'freeze', 'interventions', 'system'];
const byPrefix = (keys) => {
  const groups = new Map();
  for (const k of keys) (groups.get(prefixOf(k)) ?? groups.set(prefixOf(k), []).get(prefixOf(k))).push(k);
  const rank = (p) => (ORDER.includes(p) ? ORDER.indexOf(p) : ORDER.length);
  return [...groups].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
};

/** The metric picker; `redraw()` is called when a box changes. */
export function renderPicker(redraw) {
  const keys = [...new Set(state.selected.flatMap(keysOf))].sort();
  if (!state.metrics && keys.length) state.metrics = new Set(DEFAULT_METRICS.filter((k) => keys.includes(k)));
  const checked = state.metrics ?? new Set();
  const box = document.getElementById('picker');
  const focus = document.activeElement?.dataset?.focus;
  box.replaceChildren(...byPrefix(keys).map(([prefix, ks]) => {
    const all = el('button', { type: 'button', className: 'link', dataset: { focus: `all:${prefix}` } }, ks.every((k) => checked.has(k)) ? 'none' : 'all');
    all.onclick = () => { const on = !ks.every((k) => checked.has(k)); ks.forEach((k) => (on ? checked.add(k) : checked.delete(k))); done(); };
    return el('fieldset', {}, el('legend', {}, `${prefix}/ `, all), ...ks.map((k) => {
      const cb = el('input', { type: 'checkbox', checked: checked.has(k), value: k, dataset: { metric: k, focus: `metric:${k}` } });
      cb.onchange = () => { cb.checked ? checked.add(k) : checked.delete(k); done(); };
      return el('label', {}, cb, ` ${k.slice(prefix.length + 1) || k}`);
    }));
  }));
  if (focus) box.querySelector(`[data-focus="${CSS.escape(focus)}"]`)?.focus();
  function done() {
    state.metrics = checked;
    writeUrl();
    renderPicker(redraw);
    redraw();
  }
}

/** The grid as a Panel (so the page draws it like the design panels). */
export function gridPanel() {
  const runs = pickedRuns();
  const p = new Panel('grid', 'Metrics'); // heading and picker are in the page (index.html)
  const keys = [...(state.metrics ?? [])].filter((k) => runs.some((r) => keysOf(r.id).includes(k)));
  for (const [prefix, ks] of byPrefix(keys.sort())) {
    p.block(el('h3', { className: 'group' }, `${prefix}/`));
    const o = { xmode: prefix === 'system' ? 'relative' : state.x };
    for (const k of ks) p.chart(k, k, runLines(runs, k, o), o);
  }
  if (!keys.length) p.note(runs.length ? 'no metric ticked' : 'pick runs in the table to draw their metrics', 'info');
  return p;
}
