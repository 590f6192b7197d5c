import { cpus, freemem, totalmem } from 'node:os';

/** How often system metrics are sampled, as MLflow's own monitor does by default. */
export const SYSTEM_METRICS_MS = 10_000;

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/** One sample of the metrics MLflow's System tab shows, under `system/`. */
function sampleSystemMetrics(prev: { idle: number; total: number }): { values: Record<string, number>; times: { idle: number; total: number } } {
  const times = cpuTimes();
  const dTotal = times.total - prev.total;
  const cpu = dTotal > 0 ? 100 * (1 - (times.idle - prev.idle) / dTotal) : 0;
  const used = totalmem() - freemem();
  return {
    times,
    values: {
      'system/cpu_utilization_percentage': Math.round(cpu * 10) / 10,
      'system/system_memory_usage_megabytes': Math.round((used / 2 ** 20) * 10) / 10,
      'system/system_memory_usage_percentage': Math.round((100 * used / totalmem()) * 10) / 10,
    },
  };
}

/**
 * Logs system metrics every `everyMs` (step = sample number, as MLflow does) until the
 * returned stop function is called. The timer is unref'd: it never keeps a process alive.
 */
export function startSystemMetrics(log: (step: number, values: Record<string, number>) => void, everyMs = SYSTEM_METRICS_MS): () => void {
  if (!(everyMs > 0)) return () => {};
  let prev = cpuTimes();
  let step = 0;
  const timer = setInterval(() => {
    try {
      const s = sampleSystemMetrics(prev);
      prev = s.times;
      log(step++, s.values);
    } catch {
      // A failed sample is skipped; system metrics must never disturb training.
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
