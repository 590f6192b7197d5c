// Gradients: each transform's stats over steps, as applyTransforms logs them
// (gradients/<transform>/<stat>: project_out's removed and cos, pcgrad's conflicts and
// cos_*, observe's <direction>/cos, clip's norm and clipped).
import { logs, Panel, runLines } from './common.js';

/** Stats a reader looks at first. */
const RANK = [/removed$/, /cos/, /conflicts$/, /norm$/, /clipped$/];
const rank = (k) => { const i = RANK.findIndex((re) => re.test(k)); return i < 0 ? RANK.length : i; };

export function gradientsPanel(runs) {
  const p = new Panel('gradients', 'Gradients', 'gradients/<transform>/<stat> for every gradient transform in the recipe (removed fraction, cosines, conflicts, norms); the freeze transform is in the freezing panel.');
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith('gradients/') && !k.startsWith('gradients/freeze/'))))];
  keys.sort((a, b) => a.split('/')[1].localeCompare(b.split('/')[1]) || rank(a) - rank(b) || a.localeCompare(b));
  for (const key of keys) {
    const [, transform, ...stat] = key.split('/');
    p.chart(key, `${transform}: ${stat.join('/')}`, runLines(runs, key));
  }
  p.lacking(runs, (r) => logs(r, (k) => k.startsWith('gradients/') && !k.startsWith('gradients/freeze/')), 'logs no gradients/* stats (no gradient transform besides freeze, or a run from before RL logged them)');
  return p;
}
