// What every design panel shares: a section with a heading, a line saying which metrics it
// reads, notes for runs that lack them, and chart slots drawn once the section is on the page.
import { colorOf } from '../colors.js';
import { el } from '../dom.js';
import { historyOf, seriesFor } from '../series.js';
import { label, state } from '../state.js';

export class Panel {
  /** `reads`: the metric keys (and params) this panel draws from, shown under its title (none: the page has the heading). */
  constructor(name, title, reads) {
    this.name = name;
    this.notes = el('ul', { className: 'notes' });
    this.body = el('div', { className: 'chart-grid' });
    this.root = el('section', { className: 'panel', id: `panel-${name}`, ariaLabel: title },
      reads ? [el('h2', {}, title), el('p', { className: 'reads' }, 'Reads ', reads)] : [], this.notes, this.body);
    this.charts = [];
  }

  /** A chart slot; skipped (and false) when no line has a point. */
  chart(id, title, lines, opts = {}) {
    if (!lines.some((l) => l.xs.length)) return false;
    const slot = el('div', { className: 'plot' });
    this.body.append(el('figure', { className: 'chart' }, el('figcaption', {}, title), slot));
    this.charts.push({ box: slot, spec: { id: `${this.name}:${id}`, xmode: opts.xmode ?? state.x, lines, yLabel: opts.yLabel } });
    return true;
  }

  /** A line under the title: what a run lacks, or how to read the panel. */
  note(text, cls = 'missing') {
    this.notes.append(el('li', { className: cls }, text));
  }

  /** Notes every run for which `has(run)` is false. */
  lacking(runs, has, what) {
    for (const r of runs) if (!has(r)) this.note(`${label(r)}: ${what}`);
  }

  block(node) {
    this.body.append(node);
  }
}

/**
 * One line per run that logged `key`. `band: stdKey` adds a ±std band; `transform` maps
 * values (and flips a band with it); `suffix`/`dash` tell hosts or variants apart.
 */
export function runLines(runs, key, o = {}) {
  const out = [];
  for (const r of runs) {
    const s = seriesFor(r.id, key, o.xmode ?? state.x, o.transform);
    if (!s) continue;
    const line = { label: `${label(r)}${o.suffix ?? ''}`, color: colorOf(state.selected, r.id), xs: s[0], ys: s[1], dash: o.dash };
    const sd = o.band && seriesFor(r.id, o.band, o.xmode ?? state.x, (v) => v);
    if (sd) {
      const std = new Map(sd[0].map((x, i) => [x, sd[1][i]]));
      const at = (i, k) => (s[1][i] === null || std.get(s[0][i]) == null ? null : s[1][i] + k * std.get(s[0][i]));
      line.band = { hi: s[0].map((_, i) => at(i, 1)), lo: s[0].map((_, i) => at(i, -1)) };
    }
    out.push(line);
  }
  return out;
}

/** True if run `r` logged any metric whose key passes `test`. */
export const logs = (r, test) => Object.keys(state.histories.get(r.id)?.metrics ?? {}).some(test);
export const has = (r, key) => historyOf(r.id, key) !== undefined;

/** The recipe list `section` (e.g. rewards) from flattened params: [{ name, kind, … }] by index. */
export function listParam(r, section) {
  const items = [];
  for (const [k, v] of Object.entries(r.params)) {
    const m = new RegExp(`^${section}\\.(\\d+)\\.(.+)$`).exec(k) ?? new RegExp(`^${section}\\.(\\d+)$`).exec(k);
    if (!m) continue;
    const item = (items[Number(m[1])] ??= {});
    if (m[2]) item[m[2]] = v;
    else item.value = v;
  }
  return items.filter(Boolean);
}
