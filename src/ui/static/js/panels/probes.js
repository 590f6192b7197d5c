// Probes: a probe reward's score on the frozen copy's activations vs the policy's (the
// reward is sign × score, so the score is mean × sign), the policy − frozen gap where a run
// logs both hosts, any *drift* metric, and the probes' held-out metrics (probes/<name>/*).
import { colorOf } from '../colors.js';
import { el, fmt } from '../dom.js';
import { seriesFor } from '../series.js';
import { label, state } from '../state.js';
import { listParam, logs, Panel, runLines } from './common.js';

/** The run's probe rewards: [{ name, probe, host, sign }]. */
const probeRewards = (r) => listParam(r, 'rewards').filter((x) => x.kind === 'probe').map((x) => ({ ...x, host: x.host ?? 'frozen', sign: Number(x.sign ?? 1) }));

export function probesPanel(runs) {
  const p = new Panel('probes', 'Probes', 'the probe rewards’ rewards/<name>/mean × sign (the probe’s own score; params rewards.N.kind = probe, .probe, .host, .sign), host frozen solid and policy dashed; policy − frozen where both are logged; metrics named *drift*; probes/<probe>/* from `bonsai probe train`.');
  const byProbe = new Map();
  for (const r of runs) for (const x of probeRewards(r)) (byProbe.get(x.probe) ?? byProbe.set(x.probe, []).get(x.probe)).push({ run: r, ...x });
  for (const [probe, uses] of byProbe) {
    const lines = uses.flatMap((u) => runLines([u.run], `rewards/${u.name}/mean`, { transform: (v) => v * u.sign, suffix: ` · ${u.host}`, dash: u.host === 'policy' ? [6, 4] : undefined }));
    p.chart(`score:${probe}`, `probe “${probe}”: score on frozen vs policy activations`, lines, { yLabel: 'score' });
    const gaps = [];
    for (const r of runs) {
      const f = uses.find((u) => u.run === r && u.host === 'frozen');
      const q = uses.find((u) => u.run === r && u.host === 'policy');
      if (f && q) gaps.push(gapLine(r, f, q));
      else if (f) p.note(`${label(r)}: probe “${probe}” is scored on the frozen copy only; a policy-side score is not logged (a weight-0 probe reward with host: policy logs it)`, 'info');
      else if (q) p.note(`${label(r)}: probe “${probe}” is scored on the policy only (host: policy), which RL can learn to evade`, 'info');
    }
    p.chart(`drift:${probe}`, `probe “${probe}”: policy − frozen score (computed here)`, gaps.filter(Boolean));
  }
  const drift = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).filter((k) => /drift/i.test(k))))].sort();
  for (const key of drift) p.chart(key, key, runLines(runs, key));
  const meta = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith('probes/'))))].sort();
  if (meta.length) {
    p.block(el('table', { className: 'small' }, el('thead', {}, el('tr', {}, el('th', {}, 'probe metric'), ...runs.map((r) => el('th', { style: `color:${colorOf(state.selected, r.id)}` }, label(r))))),
      el('tbody', {}, ...meta.map((k) => el('tr', {}, el('td', {}, k), ...runs.map((r) => el('td', { className: 'num' }, fmt(r.metrics[k]?.value))))))));
  }
  p.lacking(runs, (r) => probeRewards(r).length || logs(r, (k) => k.startsWith('probes/') || /drift/i.test(k)), 'no probe reward, probe metric or drift metric');
  return p;
}

/** policy − frozen score per step, for one run that logs both. */
function gapLine(r, f, q) {
  const a = seriesFor(r.id, `rewards/${f.name}/mean`, state.x, (v) => v * f.sign);
  const b = seriesFor(r.id, `rewards/${q.name}/mean`, state.x, (v) => v * q.sign);
  if (!a || !b) return null;
  const fb = new Map(a[0].map((x, i) => [x, a[1][i]]));
  const xs = b[0].filter((x) => fb.has(x));
  const ys = xs.map((x) => { const v = b[1][b[0].indexOf(x)]; const w = fb.get(x); return v === null || w === null ? null : v - w; });
  return { label: label(r), color: colorOf(state.selected, r.id), xs, ys };
}
