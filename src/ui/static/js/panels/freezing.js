// Freezing: entries frozen per tensor (freeze/by_tensor/<path>, logged when the masks are
// set), the total (freeze/entries), the frozen count held over steps
// (gradients/freeze/frozen_entries) and the end-of-run bit-identity check (freeze/verified).
import { colorOf } from '../colors.js';
import { el, fmt } from '../dom.js';
import { label, state } from '../state.js';
import { listParam, Panel, runLines } from './common.js';

function verdict(r) {
  const v = r.metrics['freeze/verified']?.value;
  if (v === 1) return el('span', { className: 'ok' }, '✓ bit-identical');
  if (v === 0) return el('span', { className: 'bad' }, '✗ changed');
  return el('span', { className: 'dim' }, r.status === 'RUNNING' ? 'checked at the end' : 'not checked');
}

export function freezingPanel(runs) {
  const p = new Panel('freezing', 'Freezing', 'freeze/by_tensor/<path> and freeze/entries (logged when the masks are set), gradients/freeze/frozen_entries over steps, and freeze/verified (1 when every frozen entry ended bit-identical); selectors from the params freeze.N.');
  const frozen = runs.filter((r) => r.metrics['freeze/entries']);
  p.lacking(runs, (r) => r.metrics['freeze/entries'], 'freezes nothing (no freeze/* metrics)');
  if (!frozen.length) return p;
  const tensors = [...new Set(frozen.flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith('freeze/by_tensor/')).map((k) => k.slice(17))))].sort();
  const most = Math.max(1, ...frozen.flatMap((r) => tensors.map((t) => r.metrics[`freeze/by_tensor/${t}`]?.value ?? 0)));
  const cell = (r, v) => el('td', { className: 'num bar-cell' },
    el('span', { className: 'bar', style: `width:${(60 * (v ?? 0)) / most}px;background:${colorOf(state.selected, r.id)}` }), fmt(v));
  p.block(el('table', { className: 'small freeze-table' },
    el('thead', {}, el('tr', {}, el('th', {}, 'tensor'), ...frozen.map((r) => el('th', { style: `color:${colorOf(state.selected, r.id)}` }, label(r))))),
    el('tbody', {},
      ...tensors.map((t) => el('tr', { dataset: { tensor: t } }, el('td', {}, el('code', {}, t)), ...frozen.map((r) => cell(r, r.metrics[`freeze/by_tensor/${t}`]?.value)))),
      el('tr', { className: 'total' }, el('td', {}, 'entries frozen'), ...frozen.map((r) => el('td', { className: 'num' }, fmt(r.metrics['freeze/entries'].value)))),
      el('tr', {}, el('td', {}, 'selectors'), ...frozen.map((r) => el('td', {}, listParam(r, 'freeze').map((x) => x.value ?? Object.entries(x).map(([k, v]) => `${k}: ${v}`).join(', ')).join('; ') || '—'))),
      el('tr', { className: 'verified' }, el('td', {}, 'end-of-run check'), ...frozen.map((r) => el('td', {}, verdict(r)))))));
  p.chart('held', 'entries held frozen per step · gradients/freeze/frozen_entries', runLines(frozen, 'gradients/freeze/frozen_entries'));
  return p;
}
