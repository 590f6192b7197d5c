// System: what the tracker samples every 10 s (system/*, as MLflow's System tab) and the
// trainer's throughput, over seconds since the run started (system samples have no step).
import { logs, Panel, runLines } from './common.js';

const KNOWN = [['system/cpu_utilization_percentage', 'CPU (%)'], ['system/system_memory_usage_megabytes', 'memory used (MB)'],
  ['system/system_memory_usage_percentage', 'memory used (%)']];

export function systemPanel(runs) {
  const p = new Panel('system', 'System', 'system/cpu_utilization_percentage, system/system_memory_usage_megabytes and _percentage (sampled every 10 s by the tracker), other system/* keys, and train/tokens_per_sec; x is seconds since the run started.');
  const o = { xmode: 'relative' };
  p.chart('train/tokens_per_sec', 'tokens/s · train/tokens_per_sec', runLines(runs, 'train/tokens_per_sec', o), o);
  for (const [key, title] of KNOWN) p.chart(key, `${title} · ${key}`, runLines(runs, key, o), o);
  const other = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith('system/') && !KNOWN.some(([x]) => x === k))))].sort();
  for (const key of other) p.chart(key, key, runLines(runs, key, o), o);
  p.lacking(runs, (r) => logs(r, (k) => k.startsWith('system/')), 'logs no system/* metrics (a run shorter than one 10 s sample, or a tracker with system metrics off)');
  p.lacking(runs, (r) => logs(r, (k) => k === 'train/tokens_per_sec'), 'logs no train/tokens_per_sec');
  return p;
}
