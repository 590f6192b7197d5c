import { activeBlas, setBlas } from './blas-kernels.ts';
import { findBlas, type BlasSearch } from './blas-library.ts';

/**
 * The wasm backend's choice of product path: the platform's BLAS when one is found and
 * usable, XNNPACK otherwise. One search per process (loading a library is not undone).
 */

/** What runs the wasm backend's products, for the backend report and the run's tags. */
export interface ProductPath {
  /** 'blas' or 'xnnpack'. */
  path: 'blas' | 'xnnpack';
  /** The library, e.g. "OpenBLAS 0.3.21 (libopenblas.so.0)". */
  library?: string;
  /** Why the fallback runs, or which libraries were present but unusable (one line). */
  note?: string;
}

let search: BlasSearch | undefined;

/** Finds the BLAS once; later calls reuse the first answer unless `again`. */
function searched(again = false): BlasSearch {
  if (!search || again) search = findBlas();
  return search;
}

/**
 * Routes the wasm backend's products to the platform's BLAS with `threads` threads, or
 * (none found, or BONSAI_BLAS=off) leaves them on XNNPACK, saying why in one line.
 */
export function chooseProductPath(threads: number, s: BlasSearch = searched()): ProductPath {
  const unusable = s.notes.length ? s.notes.join('; ') : undefined;
  if (!s.library) {
    setBlas(undefined);
    const why = unusable ?? `no BLAS library found (looked for ${s.tried.join(', ')})`;
    return { path: 'xnnpack', note: `${why}: products run on XNNPACK` };
  }
  s.library.setThreads?.(threads);
  setBlas(s.library);
  return { path: 'blas', library: s.library.name, ...(unusable ? { note: unusable } : {}) };
}

/**
 * Forces the product path: false keeps every product on XNNPACK (as where no BLAS exists),
 * true puts them back on the BLAS found (if any). For tests and comparisons.
 */
export function useBlas(on: boolean): boolean {
  const lib = on ? searched().library : undefined;
  setBlas(lib);
  return activeBlas() !== undefined;
}

/** One clause for the backend line, e.g. "products on OpenBLAS 0.3.21 (libopenblas.so.0)". */
export function describeProductPath(p: ProductPath): string {
  if (p.path === 'blas') return `products on ${p.library}${p.note ? ` (passed over: ${p.note})` : ''}`;
  return p.note ?? 'products on XNNPACK';
}
