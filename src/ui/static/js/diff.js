// The diff view for `bonsai diff` reports (format bonsai.diff/1, given to `bonsai ui
// --diff`): the tensors, heads and neurons that moved most, the tokens each layer's logit
// lens promotes and suppresses, and each probe's AUROC and mean score before and after.
import { el, fmt, showToken } from './dom.js';
import { state, writeUrl } from './state.js';

const TOP = 15;

function bars(rows, name) {
  const most = Math.max(1e-12, ...rows.map((r) => Math.abs(r.rel_change)));
  return el('table', { className: 'small diff-bars' }, el('thead', {}, el('tr', {}, el('th', {}, name), el('th', {}, 'relative change'))),
    el('tbody', {}, ...rows.slice(0, TOP).map((r) => el('tr', {}, el('td', {}, el('code', {}, r.label)),
      el('td', { className: 'num bar-cell' }, el('span', { className: 'bar', style: `width:${(120 * Math.abs(r.rel_change)) / most}px` }), fmt(r.rel_change))))));
}

const tokens = (list, cls) => el('ol', { className: `tokens ${cls}` }, ...list.slice(0, 8).map((t) => el('li', { title: `id ${t.id}, logit ${fmt(t.logit)}` }, el('code', {}, showToken(t.token)), el('span', { className: 'dim' }, ` ${fmt(t.logit)}`))));

function section(title, empty, body) {
  return el('section', { className: 'diff-part' }, el('h3', {}, title), body ?? el('p', { className: 'dim' }, empty));
}

/** Renders the picked report into #diff (or says how to give one). */
export function renderDiff() {
  const box = document.getElementById('diff');
  if (!state.diffs.length) return box.replaceChildren(el('p', { className: 'dim' }, 'No diff report given. Start the page with `bonsai ui --diff REPORT.json` (a `bonsai diff` report) to see which weights, heads, neurons and tokens moved between two checkpoints.'));
  const i = Math.min(state.diff, state.diffs.length - 1);
  const { file, report: d } = state.diffs[i];
  const pick = el('select', { id: 'diff-pick', ariaLabel: 'diff report' }, ...state.diffs.map((x, j) => el('option', { value: String(j), selected: j === i }, x.file)));
  pick.onchange = () => { state.diff = Number(pick.value); writeUrl(); renderDiff(); };
  const w = d.weights;
  box.replaceChildren(
    el('p', {}, state.diffs.length > 1 ? pick : el('code', {}, file), el('br'), 'a: ', el('code', {}, d.a.path), ` (${d.a.fingerprint.slice(0, 12)}) → b: `, el('code', {}, d.b.path), ` (${d.b.fingerprint.slice(0, 12)})`),
    el('div', { className: 'diff-grid' },
      section('tensors that moved most', 'no tensors in the report', w.tensors.length ? bars(w.tensors.map((t) => ({ label: t.path, rel_change: t.rel_change })), 'tensor') : null),
      section('heads', 'no heads in the report', w.heads.length ? bars(w.heads.map((h) => ({ label: `L${h.layer} H${h.head}`, rel_change: h.rel_change })), 'head') : null),
      section('neurons', 'no neurons in the report', w.neurons.length ? bars(w.neurons.map((n) => ({ label: `L${n.layer} N${n.neuron}`, rel_change: n.rel_change })), 'neuron') : null),
      section('probe drift', 'no probes in the report', d.probes.length ? el('table', { className: 'small' },
        el('thead', {}, el('tr', {}, ...['probe', 'AUROC a', 'AUROC b', 'mean a', 'mean b', 'Δ mean'].map((h) => el('th', {}, h)))),
        el('tbody', {}, ...d.probes.map((p) => el('tr', {}, el('td', {}, p.name), ...[p.auroc_a, p.auroc_b, p.mean_a, p.mean_b, p.mean_b - p.mean_a].map((v) => el('td', { className: 'num' }, fmt(v))))))) : null)),
    section('logit lens: tokens promoted (b over a) and suppressed, per layer', 'no lens layers in the report', d.lens.length ? el('table', { className: 'small lens' },
      el('thead', {}, el('tr', {}, el('th', {}, 'layer'), el('th', {}, 'promoted'), el('th', {}, 'suppressed'))),
      el('tbody', {}, ...d.lens.map((l) => el('tr', {}, el('td', {}, String(l.layer)), el('td', {}, tokens(l.promoted, 'up')), el('td', {}, tokens(l.suppressed, 'down')))))) : null));
}
