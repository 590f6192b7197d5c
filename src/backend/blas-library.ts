import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';

/**
 * The platform's BLAS, found and bound through koffi (an FFI package whose npm tarball
 * carries prebuilt binaries). Only what the wasm backend's product kernels need:
 * `cblas_sgemm` on Float32Array views, which koffi passes as pointers to the array's own
 * memory (no copy; a view into the wasm heap is a pointer into it), and the library's
 * thread setter.
 *
 * Searched in order: $BONSAI_BLAS (a path, or `off`), then per platform
 *   Linux:   libopenblas.so.0 (Debian/Ubuntu libopenblas0-pthread), libopenblas.so, libmkl_rt.so.2, libmkl_rt.so
 *   macOS:   Accelerate (always present), Homebrew's OpenBLAS (Apple silicon and Intel prefixes)
 *   Windows: libopenblas.dll, mkl_rt.2.dll
 * `libblas.so.3` is not tried: on Debian it is often the reference BLAS (several times
 * slower than XNNPACK). A library that is present but unusable (another architecture, no
 * `cblas_sgemm`, wrong results on a 2×3 check) is named in the notes and passed over.
 */

/** CBLAS enums (netlib cblas.h). */
export const CBLAS = { RowMajor: 101, NoTrans: 111, Trans: 112 } as const;

/** C = alpha·op(A)·op(B) + beta·C, row-major; ints are 32-bit (LP64 builds). */
export type Sgemm = (
  order: number, transA: number, transB: number, M: number, N: number, K: number,
  alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number,
) => void;

export interface BlasLibrary {
  /** What it is, e.g. "OpenBLAS 0.3.21 (libopenblas.so.0)". */
  name: string;
  sgemm: Sgemm;
  /** Sets the library's thread count; undefined where the library manages its own (Accelerate). */
  setThreads?: (n: number) => void;
}

/** The search's outcome: the library, or none; `notes` name each library present but unusable. */
export interface BlasSearch {
  library?: BlasLibrary;
  tried: string[];
  notes: string[];
}

/** Candidate library paths (or names the dynamic loader resolves) for this platform. */
export function blasCandidates(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'darwin') {
    return [
      '/System/Library/Frameworks/Accelerate.framework/Accelerate',
      '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
      '/usr/local/opt/openblas/lib/libopenblas.dylib',
    ];
  }
  if (platform === 'win32') return ['libopenblas.dll', 'mkl_rt.2.dll'];
  return ['libopenblas.so.0', 'libopenblas.so', 'libmkl_rt.so.2', 'libmkl_rt.so'];
}

/** A dlopen failure that means "not there" rather than "there but unusable". */
function absent(message: string): boolean {
  return /no such file|cannot open shared object|image not found|not found|cannot find|specified module could not be found/i.test(message) &&
    !/wrong ELF class|invalid ELF|architecture|mach-o/i.test(message);
}

type Koffi = {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown; unload?(): void };
  decode?(ptr: unknown, type: string): unknown;
};

/** Finds the first usable BLAS. `env` is read for BONSAI_BLAS (a path, or off/none/0). */
export function findBlas(env: NodeJS.ProcessEnv = process.env, candidates = blasCandidates()): BlasSearch {
  const override = env.BONSAI_BLAS?.trim();
  if (override && /^(off|none|0|false|xnnpack)$/i.test(override)) return { tried: [], notes: [`BONSAI_BLAS=${override}`] };
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    return { tried: [], notes: [`the koffi package did not load (${firstLine(e)})`] };
  }
  const list = override ? [override] : candidates;
  const notes: string[] = [];
  const tried: string[] = [];
  for (const path of list) {
    tried.push(path);
    if (path.startsWith('/') && !existsSync(path) && !path.includes('.framework/')) {
      if (override) notes.push(`BONSAI_BLAS=${path}: no such file`);
      continue;
    }
    let lib: ReturnType<Koffi['load']>;
    try {
      lib = koffi.load(path);
    } catch (e) {
      if (!override && absent(firstLine(e))) continue;
      notes.push(`${path} is present but did not load: ${firstLine(e)}`);
      continue;
    }
    const bound = bind(koffi, lib, path);
    if (typeof bound === 'string') notes.push(`${path} is unusable: ${bound}`);
    else return { library: bound, tried, notes };
  }
  return { tried, notes };
}

function bind(koffi: Koffi, lib: ReturnType<Koffi['load']>, path: string): BlasLibrary | string {
  let sgemm: Sgemm;
  try {
    sgemm = lib.func('void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)') as unknown as Sgemm;
  } catch (e) {
    return `no cblas_sgemm (${firstLine(e)})`;
  }
  const optional = (sig: string) => {
    try {
      return lib.func(sig);
    } catch {
      return undefined;
    }
  };
  const openblasThreads = optional('void openblas_set_num_threads(int)');
  const mklThreads = optional('void MKL_Set_Num_Threads(int)');
  const config = optional('const char *openblas_get_config()');
  const check = selfCheck(sgemm);
  if (check) return check;
  const file = basename(path);
  let name: string;
  if (openblasThreads) {
    const version = config ? /OpenBLAS\s+([\d.]+)/.exec(String(config()))?.[1] : undefined;
    name = `OpenBLAS${version ? ` ${version}` : ''} (${file})`;
  } else if (mklThreads) name = `MKL (${file})`;
  else if (path.includes('Accelerate')) name = 'Accelerate';
  else name = file;
  const setter = openblasThreads ?? mklThreads;
  return { name, sgemm, ...(setter ? { setThreads: (n: number) => void setter(n) } : {}) };
}

/** A plain and a transposed 2×3 product (beta 0, then 1) against known answers: catches a wrong ABI (e.g. 64-bit ints). */
function selfCheck(sgemm: Sgemm): string | undefined {
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
  const b = Float32Array.from([1, 0, 2, 1, 0, 3]); // [3, 2] or, transposed, [2, 3]
  const c = new Float32Array(4).fill(7);
  try {
    sgemm(CBLAS.RowMajor, CBLAS.NoTrans, CBLAS.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
    const plain = Array.from(c);
    sgemm(CBLAS.RowMajor, CBLAS.NoTrans, CBLAS.Trans, 2, 2, 3, 1, a, 3, b, 3, 1, c, 2);
    const both = Array.from(c);
    // a·b = [[5, 11], [14, 23]]; a·bᵀ with b as [2, 3] = [[7, 10], [16, 22]]; beta 1 adds the first.
    const want = [5, 11, 14, 23, 12, 21, 30, 45];
    const got = [...plain, ...both];
    if (got.some((g, i) => g !== want[i])) return `cblas_sgemm gave ${got.join(',')} on a 2x3 check, expected ${want.join(',')}`;
  } catch (e) {
    return `cblas_sgemm failed a 2x3 check: ${firstLine(e)}`;
  }
  return undefined;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
