// What the page shows, and its mirror in the URL: picked runs, grid metrics, smoothing,
// x axis, zoom, the table's filter and sort, and the diff report. A view is shared by
// copying the address bar.

/** Default grid metrics: the ones a run of either trainer logs that say most at a glance. */
export const DEFAULT_METRICS = ['train/loss', 'eval/loss', 'rewards/total/mean', 'train/kl'];

export const state = {
  runs: [], unreadable: [], location: '',
  selected: [], metrics: null, smoothing: 0, x: 'step',
  /** Zoom per x axis kind ('step', 'relative', 'wall'): { min, max }, or null for the whole range. */
  zoom: { step: null, relative: null, wall: null },
  filter: '', sort: { key: 'start', dir: -1 },
  histories: new Map(), diffs: [], diff: 0,
};

const num = (v, d) => (v !== null && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
function range(v) {
  const [a, b] = (v ?? '').split(',').map(Number);
  return Number.isFinite(a) && Number.isFinite(b) && a < b ? { min: a, max: b } : null;
}

/** Fills `state` from the current URL. */
export function readUrl() {
  const q = new URLSearchParams(location.search);
  state.selected = (q.get('runs') ?? '').split(',').filter((id) => /^[0-9a-f]{32}$/.test(id));
  state.metrics = q.has('metrics') ? new Set(q.get('metrics').split(',').filter(Boolean)) : null;
  state.smoothing = Math.min(0.99, Math.max(0, num(q.get('smooth'), 0)));
  state.x = ['step', 'relative', 'wall'].includes(q.get('x')) ? q.get('x') : 'step';
  for (const k of Object.keys(state.zoom)) state.zoom[k] = range(q.get(`zoom_${k}`));
  state.filter = q.get('filter') ?? '';
  const [key, dir] = (q.get('sort') ?? 'start:desc').split(':');
  state.sort = { key, dir: dir === 'asc' ? 1 : -1 };
  state.diff = Math.max(0, Math.floor(num(q.get('diff'), 0)));
}

/** Writes `state` to the URL (replacing the entry: a view is not a page of history). */
export function writeUrl() {
  const q = new URLSearchParams();
  if (state.selected.length) q.set('runs', state.selected.join(','));
  if (state.metrics) q.set('metrics', [...state.metrics].join(','));
  if (state.smoothing) q.set('smooth', String(state.smoothing));
  if (state.x !== 'step') q.set('x', state.x);
  for (const [k, z] of Object.entries(state.zoom)) if (z) q.set(`zoom_${k}`, `${z.min},${z.max}`);
  if (state.filter) q.set('filter', state.filter);
  if (state.sort.key !== 'start' || state.sort.dir !== -1) q.set('sort', `${state.sort.key}:${state.sort.dir > 0 ? 'asc' : 'desc'}`);
  if (state.diff) q.set('diff', String(state.diff));
  const s = q.toString().replace(/%2C/g, ',').replace(/%2F/g, '/').replace(/%3A/g, ':');
  history.replaceState(null, '', s ? `?${s}` : location.pathname);
}

export const runById = (id) => state.runs.find((r) => r.id === id);
export const label = (r) => `${r.name || '(no name)'} ${r.id.slice(0, 8)}`;
/** The picked runs that are still in the store, in pick order (their colour order). */
export const pickedRuns = () => state.selected.map(runById).filter(Boolean);
