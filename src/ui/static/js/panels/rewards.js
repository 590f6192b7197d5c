// Rewards: each component's mean ± std and the weighted total over steps; KL, entropy,
// clip fraction and response length (what bonsai's RL step logs: src/rewards/compose.ts,
// src/trainer/rl.ts).
import { fmt } from '../dom.js';
import { label } from '../state.js';
import { listParam, logs, Panel, runLines } from './common.js';

const LOOP = [['train/kl', 'KL to the frozen reference (k3)'], ['train/entropy', 'policy entropy (nats/token)'],
  ['train/clip_frac', 'clip fraction'], ['train/response_length', 'response length (tokens)']];

export function rewardsPanel(runs) {
  const p = new Panel('rewards', 'Rewards', 'rewards/<name>/mean and /std for each reward, rewards/total/mean|std (the weighted sum the advantages use), train/kl, train/entropy, train/clip_frac, train/response_length; weights and kinds from the params rewards.N.*.');
  p.lacking(runs, (r) => logs(r, (k) => k.startsWith('rewards/')), 'logs no rewards/* (not an RL run)');
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).map((k) => /^rewards\/(.+)\/mean$/.exec(k)?.[1]).filter((n) => n && n !== 'total')))].sort();
  p.chart('total', 'total reward (weighted sum), mean ± std', runLines(runs, 'rewards/total/mean', { band: 'rewards/total/std' }));
  for (const name of names) {
    const spec = runs.map((r) => listParam(r, 'rewards').find((x) => x.name === name)).find(Boolean);
    const what = spec ? ` — ${spec.kind}${spec.host ? ` on the ${spec.host}` : ''}, weight ${fmt(Number(spec.weight))}` : '';
    p.chart(`reward:${name}`, `reward “${name}”${what}, mean ± std`, runLines(runs, `rewards/${name}/mean`, { band: `rewards/${name}/std` }));
    for (const r of runs) if (logs(r, (k) => k.startsWith('rewards/')) && !r.metrics[`rewards/${name}/mean`]) p.note(`${label(r)}: has no reward “${name}”`, 'info');
  }
  for (const [key, title] of LOOP) p.chart(key, `${title} · ${key}`, runLines(runs, key));
  return p;
}
