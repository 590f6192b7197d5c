/**
 * The safetensors format (huggingface/safetensors), read and written exactly:
 *   [u64 LE: N] [N bytes: JSON header, space-padded to a multiple of 8] [data section]
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }`
 * (offsets relative to the data section) plus an optional `__metadata__` string map.
 * Files written here are byte-identical to the reference writer's: tensors ordered by dtype
 * (widest alignment first), then by name, so every tensor is aligned to its element size.
 */
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';

/** Element types bonsai reads and writes. */
export type SafetensorsDtype = 'F64' | 'I64' | 'F32' | 'I32' | 'BF16' | 'F16' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** A tensor to write: raw little-endian bytes. F16/BF16 may also be given as a Float32Array. */
export interface SafetensorsInput {
  dtype: SafetensorsDtype;
  shape: number[];
  data: ArrayBufferView;
}

/** A tensor read back. F16 and BF16 arrive as Float32Array (tfjs has no half types). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

/** A whole file: tensors by name plus the `__metadata__` map. */
export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

// `rank` mirrors the reference Dtype enum's order, which its writer sorts by (descending).
const DTYPES: Record<SafetensorsDtype, { size: number; rank: number; view: (b: ArrayBuffer) => SafetensorsTensor['data'] }> = {
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
const MAX_HEADER_BYTES = 100_000_000;

/** Encodes tensors (and string metadata) as safetensors bytes. */
export function safetensorsBuffer(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): Buffer {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const spec = DTYPES[t.dtype];
    if (!spec) throw new BonsaiError(`tensor ${name}: unsupported dtype ${String(t.dtype)}`);
    if (name === '__metadata__' || name === '') throw new BonsaiError(`tensor name ${JSON.stringify(name)} is reserved`);
    const bytes = toBytes(name, t);
    const want = numel(name, t.shape) * spec.size;
    if (bytes.byteLength !== want) {
      throw new BonsaiError(`tensor ${name}: shape [${t.shape}] × ${t.dtype} needs ${want} bytes, data has ${bytes.byteLength}`);
    }
    return { name, t, bytes, rank: spec.rank };
  });
  entries.sort((a, b) => b.rank - a.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new BonsaiError(`safetensors metadata ${k} must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.t.dtype, shape: e.t.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return out;
}

/** Writes a safetensors file. See `safetensorsBuffer`. */
export function writeSafetensors(path: string, tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): void {
  writeFileSync(path, safetensorsBuffer(tensors, metadata));
}

/** Reads and fully validates a safetensors file; any defect is a BonsaiError naming the file. */
export function readSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readWholeFile(path);
  } catch (e) {
    if (e instanceof BonsaiError) throw e;
    throw new BonsaiError(`cannot read safetensors file: ${(e as Error).message}`, { where: path, cause: e });
  }
  return readSafetensorsBuffer(buf, path);
}

/**
 * The file's bytes. readFileSync stops at 2 GiB, which gpt2-large passes; reading in chunks
 * into one Buffer reaches Node's Buffer limit (4 GiB on Node 20) instead.
 */
function readWholeFile(path: string): Buffer {
  const size = statSync(path).size;
  if (size > bufferConstants.MAX_LENGTH) {
    throw new BonsaiError(`${(size / 2 ** 30).toFixed(1)} GiB; this Node reads at most ${(bufferConstants.MAX_LENGTH / 2 ** 30).toFixed(0)} GiB in one file`, {
      where: path,
      hint: 'a sharded checkpoint (model.safetensors.index.json) keeps each file smaller; a newer Node (22+) raises the limit',
    });
  }
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  try {
    for (let at = 0; at < size; ) {
      const n = readSync(fd, buf, at, Math.min(size - at, 2 ** 30), at);
      if (n === 0) throw new BonsaiError(`shrank while being read (${at} of ${size} bytes)`, { where: path });
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/**
 * Decodes safetensors bytes. Checks the header length against the size, the JSON, every
 * dtype and shape, that shape × dtype size equals the byte range, and that ranges are in
 * bounds and do not overlap; tensors may appear in any order. Gaps between tensors are
 * tolerated (the reference reader refuses them) since they cannot corrupt a tensor.
 */
export function readSafetensorsBuffer(buf: Uint8Array, name = '<buffer>'): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new BonsaiError(`not a valid safetensors file: ${msg}`, { where: name });
  };
  if (buf.byteLength < 8) fail(`truncated: ${buf.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header says it is ${n} bytes; more than the ${MAX_HEADER_BYTES} allowed, so this is probably not safetensors`);
  const headerLen = Number(n);
  if (8 + headerLen > buf.byteLength) fail(`truncated: header says ${headerLen} bytes, file has ${buf.byteLength - 8} after the length`);
  const headerText = Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8');
  if (!headerText.startsWith('{')) fail('header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: Array<{ name: string; begin: number; end: number }> = [];
  const tensors: Record<string, SafetensorsTensor> = {};
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
    ranges.push({ name: key, begin, end });
    // slice() copies into a fresh, aligned ArrayBuffer: typed arrays need element alignment.
    const bytes = buf.buffer.slice(buf.byteOffset + dataStart + begin, buf.byteOffset + dataStart + end) as ArrayBuffer;
    tensors[key] = { dtype: t.dtype as SafetensorsDtype, shape, data: spec.view(bytes) };
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const [p, c] = [ranges[i - 1]!, ranges[i]!];
    if (c.begin < p.end) fail(`tensors ${p.name} [${p.begin}, ${p.end}) and ${c.name} [${c.begin}, ${c.end}) overlap`);
  }
  return { tensors, metadata };
}

function numel(name: string, shape: number[]): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new BonsaiError(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
  }
  return shape.reduce((a, d) => a * d, 1);
}

function toBytes(name: string, t: SafetensorsInput): Uint8Array {
  if (t.data instanceof Float32Array && (t.dtype === 'F16' || t.dtype === 'BF16')) {
    const half = t.dtype === 'F16' ? f32ToF16(t.data) : f32ToBf16(t.data);
    return new Uint8Array(half.buffer);
  }
  if (!ArrayBuffer.isView(t.data)) throw new BonsaiError(`tensor ${name}: data is not a typed array`);
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

// ---- half-precision conversions (IEEE binary16 and bfloat16), round to nearest even ----

let f16Table: Float32Array | undefined;
function f16ToF32(h: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const s = i & 0x8000 ? -1 : 1, e = (i >> 10) & 0x1f, m = i & 0x3ff;
      f16Table[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = f16Table[h[i]!]!;
  return out;
}

function bf16ToF32(h: Uint16Array): Float32Array {
  const bits = new Uint32Array(h.length);
  for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
  return new Float32Array(bits.buffer);
}

function f32ToBf16(f: Float32Array): Uint16Array {
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const u = bits[i]!;
    out[i] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

function f32ToF16(f: Float32Array): Uint16Array {
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000, exp = (x >>> 23) & 0xff, mant = x & 0x7fffff;
    const e = exp - 112; // rebias 127 → 15
    let h: number;
    if (exp === 0xff) h = 0x7c00 | (mant ? 0x200 : 0);
    else if (e >= 0x1f) h = 0x7c00;
    else if (e <= 0) {
      // Subnormal (or zero) in half precision: shift the full 24-bit significand down.
      const shift = 14 - e;
      if (shift > 24) h = 0;
      else {
        const m = mant | 0x800000, rem = m & ((1 << shift) - 1), mid = 1 << (shift - 1);
        h = m >>> shift;
        if (rem > mid || (rem === mid && h & 1)) h++;
      }
    } else {
      h = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry rolls into the exponent correctly
    }
    out[i] = sign | h;
  }
  return out;
}
