/**
 * The safetensors header: element types, and the checked map from tensor name to dtype, shape
 * and byte range. Shared by the in-memory decoder and the file reader (safetensors.ts).
 */
import { bf16ToF32, f16ToF32 } from './half-float.ts';

/** Element types bonsai reads and writes. */
export type SafetensorsDtype = 'F64' | 'I64' | 'F32' | 'I32' | 'BF16' | 'F16' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** A tensor read back. F16 and BF16 arrive as Float32Array (tfjs has no half types). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

// `rank` mirrors the reference Dtype enum's order, which its writer sorts by (descending).
export const DTYPES: Record<SafetensorsDtype, { size: number; rank: number; view: (b: ArrayBuffer) => SafetensorsTensor['data'] }> = {
  BOOL: { size: 1, rank: 0, view: (b) => new Uint8Array(b) },
  U8: { size: 1, rank: 1, view: (b) => new Uint8Array(b) },
  I8: { size: 1, rank: 2, view: (b) => new Int8Array(b) },
  I16: { size: 2, rank: 3, view: (b) => new Int16Array(b) },
  F16: { size: 2, rank: 4, view: (b) => f16ToF32(new Uint16Array(b)) },
  BF16: { size: 2, rank: 5, view: (b) => bf16ToF32(new Uint16Array(b)) },
  I32: { size: 4, rank: 6, view: (b) => new Int32Array(b) },
  F32: { size: 4, rank: 7, view: (b) => new Float32Array(b) },
  F64: { size: 8, rank: 8, view: (b) => new Float64Array(b) },
  I64: { size: 8, rank: 9, view: (b) => new BigInt64Array(b) },
};
/** The reference reader refuses larger headers; so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

/** A tensor's header entry: what it is and where its bytes lie in the data section. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The header's entries, checked: the JSON, every dtype and shape, that shape × dtype size
 * equals the byte range, and that ranges are in bounds (`dataLen`) and do not overlap.
 */
export function parseHeader(headerText: string, dataLen: number, fail: (msg: string) => never): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  if (!headerText.startsWith('{')) fail('header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const spec = DTYPES[t?.dtype as SafetensorsDtype];
    if (!spec) fail(`tensor ${key}: unknown or unsupported dtype ${JSON.stringify(t?.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${key}: shape ${JSON.stringify(t.shape)} is not a list of sizes`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(`tensor ${key}: data_offsets ${JSON.stringify(off)} is not [begin, end]`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) fail(`truncated: tensor ${key} ends at data byte ${end}, file has ${dataLen} data bytes`);
    const shape = t.shape as number[];
    const want = shape.reduce((a, d) => a * d, 1) * spec.size;
    if (want !== end - begin) fail(`tensor ${key}: shape [${shape}] × ${String(t.dtype)} is ${want} bytes, data_offsets give ${end - begin}`);
    entries.set(key, { dtype: t.dtype as SafetensorsDtype, shape, begin, end });
  }
  const ranges = [...entries].map(([name, e]) => ({ name, begin: e.begin, end: e.end }));
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const [p, c] = [ranges[i - 1]!, ranges[i]!];
    if (c.begin < p.end) fail(`tensors ${p.name} [${p.begin}, ${p.end}) and ${c.name} [${c.begin}, ${c.end}) overlap`);
  }
  return { entries, metadata };
}
