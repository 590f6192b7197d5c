// Interventions: the RL runtime intervention's insertions per step (train/interventions),
// any interventions/* metric, and what each run's recipe sets up (params interventions.N.*,
// trainer.intervention.*): activation interventions act on every training pass, uncounted.
import { el } from '../dom.js';
import { label } from '../state.js';
import { listParam, logs, Panel, runLines } from './common.js';

export function interventionsPanel(runs) {
  const p = new Panel('interventions', 'Interventions', 'train/interventions (tokens inserted by trainer.intervention during rollouts, per step), interventions/* metrics, and the params interventions.N.* and trainer.intervention.*.');
  p.chart('train/interventions', 'insertions per step · train/interventions', runLines(runs, 'train/interventions'));
  const extra = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith('interventions/'))))].sort();
  for (const key of extra) p.chart(key, key, runLines(runs, key));
  const setup = el('ul', { className: 'setup' });
  for (const r of runs) {
    const acts = listParam(r, 'interventions').map((x) => `${x.kind} at ${x.hook}${x.coef ? ` (coef ${x.coef})` : ''}${x.top_k ? ` (top ${x.top_k})` : ''}`);
    const rt = r.params['trainer.intervention.probe'];
    const parts = [...acts, ...(rt ? [`insert “${r.params['trainer.intervention.insert']}” when probe “${rt}” fires (≤ ${r.params['trainer.intervention.max_per_sequence'] ?? 1} per rollout)`] : [])];
    if (parts.length) setup.append(el('li', {}, el('b', {}, label(r)), `: ${parts.join('; ')}`));
    if (acts.length && !rt) p.note(`${label(r)}: its activation interventions act on every training pass; they have no per-step count`, 'info');
  }
  if (setup.children.length) p.block(setup);
  p.lacking(runs, (r) => logs(r, (k) => k === 'train/interventions' || k.startsWith('interventions/')) || listParam(r, 'interventions').length, 'no interventions (none in its recipe, no counts logged)');
  return p;
}
