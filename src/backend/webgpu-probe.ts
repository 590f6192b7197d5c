import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { diagnoseNoAdapter } from './webgpu-diagnose.ts';

/** What an adapter says about itself, as the probe process reports it. */
export interface ProbedAdapter {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Asks Dawn for an adapter in a child process, for `auto`: most machines have no GPU, and
 * loading Dawn there prints Vulkan's warnings on every run, can crash with a broken driver,
 * or hang; a child keeps all of that out of the run (its stderr is read, a timeout kills
 * it). The run loads Dawn itself only once the child found a hardware adapter.
 */
export function probeInChild(timeoutMs: number): { adapter: ProbedAdapter } | { reason: string } {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return { reason: "the 'webgpu' package is not installed (npm install webgpu @tensorflow/tfjs-backend-webgpu@~4.22.0 deasync)" };
  }
  const script = `
    const { create } = await import(process.env.BONSAI_DAWN_ENTRY);
    const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    const i = a && a.info;
    const info = a ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter ?? a.isFallbackAdapter } : null;
    process.stdout.write('\\nBONSAI_ADAPTER ' + JSON.stringify(info) + '\\n');
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, BONSAI_DAWN_ENTRY: pathToFileURL(entry).href },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('BONSAI_ADAPTER '));
  if (line) {
    const info = JSON.parse(line.slice('BONSAI_ADAPTER '.length)) as ProbedAdapter | null;
    return info ? { adapter: info } : { reason: diagnoseNoAdapter() };
  }
  if (r.error && (r.error as { code?: string }).code === 'ETIMEDOUT') {
    return { reason: `requesting a WebGPU adapter got no answer in ${timeoutMs / 1000} s (a hung GPU driver?)` };
  }
  const last = (r.stderr ?? '').trim().split('\n').filter((l) => !l.startsWith('Warning:')).pop() ?? '';
  return { reason: `Dawn (the webgpu package's dawn.node) failed (exit ${r.status ?? r.signal}): ${last.slice(0, 300)}` };
}
