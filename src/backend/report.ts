import { describeProductPath, type ProductPath } from './blas.ts';
import { describeAdapterInfo, type AdapterInfo } from './webgpu.ts';

/** What initBackend reports (the run log's backend line and the run's MLflow tags are made from it). */

/** Which backend to run: what a recipe's `backend:` (or its `backend.kind`) may say. */
export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

/** A recipe's `backend:` section in its object form: which backend, and the CPU threads it computes with. */
export interface BackendSpec {
  kind: BackendPreference;
  threads?: number;
}

/** Which backend runs, what was asked for, and why each earlier candidate was passed over. */
export interface BackendReport {
  /** The tfjs backend name now active: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  name: string;
  requested: string;
  tried: { name: string; ok: boolean; reason?: string }[];
  /** CPU threads the backend computes with (wasm: BLAS's threads, and XNNPACK's pool up to its 4; cpu: 1). */
  threads?: number;
  /** wasm: XNNPACK's pool, when it differs from `threads` (its build allows at most 4). */
  wasmThreads?: number;
  /** wasm: what runs its matrix products (the platform's BLAS, or XNNPACK) and why. */
  products?: ProductPath;
  /** webgpu: the adapter it computes on (vendor, architecture, description). */
  adapter?: AdapterInfo;
}

/** One line for the run log, e.g. `backend wasm (2 threads; products on OpenBLAS 0.3.21 (libopenblas.so.0)), auto; skipped tensorflow-gpu: …`. */
export function describeBackend(report: BackendReport): string {
  const skipped = report.tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason}`);
  const pool = report.wasmThreads !== undefined ? `, XNNPACK ${report.wasmThreads}` : '';
  const products = report.products ? `; ${describeProductPath(report.products)}` : '';
  const threads = report.threads
    ? ` (${report.threads} thread${report.threads === 1 ? '' : 's'}${pool}${products})`
    : report.adapter
      ? ` (adapter ${describeAdapterInfo(report.adapter)})`
      : '';
  const asked = report.requested === 'auto' ? 'auto' : `requested ${report.requested}`;
  return `backend ${report.name}${threads}, ${asked}` + (skipped.length ? `; skipped ${skipped.join('; ')}` : '');
}

/**
 * The run's MLflow tags for its backend: which backend, why each earlier candidate was
 * passed over, its threads, and on wasm what ran the products (blas or xnnpack, the
 * library, and why the fallback ran); on webgpu the adapter.
 */
export function backendTags(backend: BackendReport): Record<string, string> {
  const p = backend.products;
  return {
    'bonsai.backend': backend.name,
    // Why each earlier candidate was passed over, e.g. "tensorflow-gpu: not installed; wasm: ok".
    'bonsai.backend.tried': backend.tried.map((t) => `${t.name}: ${t.ok ? 'ok' : t.reason}`).join('; '),
    ...(backend.threads !== undefined ? { 'bonsai.backend.threads': String(backend.threads) } : {}),
    ...(p ? { 'bonsai.backend.products': p.path, ...(p.library ? { 'bonsai.backend.blas': p.library } : {}), ...(p.note ? { 'bonsai.backend.products.note': p.note } : {}) } : {}),
    // webgpu: the adapter it computes on (a software one is slow; a GPU's name says which).
    ...(backend.adapter
      ? {
          'bonsai.backend.adapter': describeAdapterInfo(backend.adapter),
          'bonsai.backend.adapter.vendor': backend.adapter.vendor,
          'bonsai.backend.adapter.architecture': backend.adapter.architecture,
          'bonsai.backend.adapter.description': backend.adapter.description,
        }
      : {}),
  };
}
