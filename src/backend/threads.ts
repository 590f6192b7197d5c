import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * How many threads the CPU backends compute with. The default is the machine's physical
 * cores (hyper-threads share a core's vector units, so a second thread per core buys a
 * GEMM little), never fewer because other processes are busy: a run's speed must not
 * depend on what happened to be running when it started. `backend.threads` in a recipe,
 * `--threads` on the commands, or $BONSAI_THREADS set it instead.
 */

let cached: number | undefined;

/** Physical cores this process may use (at least 1). */
export function physicalCores(): number {
  if (cached === undefined) cached = Math.max(1, Math.min(os.availableParallelism(), countCores() ?? os.availableParallelism()));
  return cached;
}

/** CPUs this process may run on (logical: hyper-threads count): the most threads a recipe may ask for. */
export function logicalCpus(): number {
  return os.availableParallelism();
}

function countCores(): number | undefined {
  try {
    if (process.platform === 'linux') {
      // One core per distinct (physical id, core id) pair; containers without the fields count CPUs.
      const pairs = new Set<string>();
      let phys = '0';
      for (const line of readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
        const [k, v] = line.split(':').map((s) => s.trim());
        if (k === 'physical id') phys = v!;
        else if (k === 'core id') pairs.add(`${phys}:${v}`);
      }
      return pairs.size || undefined;
    }
    if (process.platform === 'darwin') {
      return Number(execFileSync('sysctl', ['-n', 'hw.physicalcpu'], { encoding: 'utf8', timeout: 2000 }).trim()) || undefined;
    }
  } catch {
    // fall through: count logical CPUs
  }
  return undefined;
}

/**
 * The thread count to use: `requested` if given, else $BONSAI_THREADS (or the older
 * $BONSAI_WASM_THREADS), else the physical cores. Throws on a count that is not a whole
 * number from 1 to the CPUs available, naming where it came from.
 */
export function resolveThreads(requested?: number, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.BONSAI_THREADS ? ['BONSAI_THREADS', env.BONSAI_THREADS] : env.BONSAI_WASM_THREADS ? ['BONSAI_WASM_THREADS', env.BONSAI_WASM_THREADS] : undefined;
  if (requested === undefined && !fromEnv) return physicalCores();
  const value = requested ?? Number(fromEnv![1]);
  const problem = threadsProblem(value);
  if (problem) throw new Error(`${requested === undefined ? `$${fromEnv![0]}=${fromEnv![1]}` : `threads ${requested}`}: ${problem}`);
  return value;
}

/** Why `n` cannot be a thread count here, or undefined when it can. */
export function threadsProblem(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 1) return `must be a whole number of threads, at least 1 (got ${n})`;
  const cpus = logicalCpus();
  if (n > cpus) return `this machine has ${cpus} CPU${cpus === 1 ? '' : 's'} (${physicalCores()} physical core${physicalCores() === 1 ? '' : 's'}); ask for at most ${cpus}`;
  return undefined;
}
