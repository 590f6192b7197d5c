// DOM helpers. Every string from a run (names, params, tags, tokens) goes in as text
// through el()/text nodes, never as HTML, so a run named "<img onerror=…>" is just text.

export const $ = (sel, root = document) => root.querySelector(sel);

/** An element with properties (className, title, …), dataset entries and children (strings become text). */
export function el(tag, props = {}, ...kids) {
  const { dataset, style, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(node.dataset, dataset);
  if (style) node.setAttribute('style', style);
  node.append(...kids.flat().filter((k) => k !== undefined && k !== null && k !== false).map((k) => (typeof k === 'object' ? k : String(k))));
  return node;
}

/** A metric value in 5 significant digits; NaN/Infinity spelled out; '—' for none. */
export function fmt(v) {
  if (v === undefined || v === null) return '—';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

export function fmtTime(ms) {
  return ms === undefined || ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function fmtDuration(r, now = Date.now()) {
  if (r.startTime === undefined || r.startTime === null) return '—';
  const s = ((r.endTime ?? now) - r.startTime) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

/** Shows a token's whitespace and control characters (" the" → "␣the"). */
export function showToken(t) {
  return String(t).replace(/ /g, '␣').replace(/\n/g, '⏎').replace(/\t/g, '⇥');
}
