// The JSON API (src/ui/api.ts), and the histories cache: a finished run's history is
// fetched once; a running one is fetched again on every poll.
import { runById, state } from './state.js';

export async function getJson(path) {
  const res = await fetch(path);
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`${path}: ${res.status}${body.error ? ` ${body.error}` : ''}`);
  }
  return res.json();
}

/** Refreshes the run list, then the histories of picked runs that are new or still running. True if anything changed. */
export async function refreshData() {
  const listing = await getJson('/api/runs');
  const before = JSON.stringify([state.runs.map((r) => [r.id, r.status, r.endTime, Object.keys(r.metrics).length]), state.unreadable]);
  state.runs = listing.runs;
  state.unreadable = listing.unreadable;
  state.location = listing.location;
  let changed = before !== JSON.stringify([state.runs.map((r) => [r.id, r.status, r.endTime, Object.keys(r.metrics).length]), state.unreadable]);
  await Promise.all(state.selected.map(async (id) => {
    const run = runById(id);
    if (!run) return;
    const prev = state.histories.get(id);
    if (prev && prev.status !== 'RUNNING' && run.status !== 'RUNNING') return;
    const h = await getJson(`/api/runs/${id}/metrics`);
    const sig = JSON.stringify(Object.values(h.metrics).map((m) => m.n));
    if (!prev || prev.sig !== sig) changed = true;
    state.histories.set(id, { status: run.status, metrics: h.metrics, sig });
  }));
  return changed;
}

export async function loadDiffs() {
  state.diffs = (await getJson('/api/diffs')).reports;
}
