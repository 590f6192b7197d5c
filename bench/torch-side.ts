/**
 * The PyTorch side of a bench row: bench/torch_reference.py with a config, on a python3 that
 * has torch (BONSAI_PYTHON, else the first of python3, /usr/bin/python3), multiplying through
 * Debian's OpenBLAS where it is installed (its reference BLAS is several times slower).
 * Returns the script's last JSON line, or why there is none.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

export function runTorchReference<T>(config: Record<string, unknown>): T | string {
  const py = [process.env.BONSAI_PYTHON, 'python3', '/usr/bin/python3'].find(
    (p): p is string => !!p && (!p.startsWith('/') || existsSync(p)) && spawnSync(p, ['-c', 'import torch']).status === 0,
  );
  if (!py) return 'skipped: no python3 with torch (set BONSAI_PYTHON)';
  const env = existsSync(join(OPENBLAS, 'libblas.so.3')) ? { ...process.env, LD_LIBRARY_PATH: [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : process.env;
  const p = spawnSync(py, [join(here, 'torch_reference.py'), JSON.stringify(config)], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const line = p.stdout?.trim().split('\n').pop();
  if (p.status !== 0 || !line) return `failed: ${(p.stderr ?? '').trim().split('\n').pop()}`;
  return JSON.parse(line) as T;
}
