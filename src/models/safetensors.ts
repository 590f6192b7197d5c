/**
 * The safetensors format (huggingface/safetensors), read and written exactly:
 *   [u64 LE: N] [N bytes: JSON header, space-padded to a multiple of 8] [data section]
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }`
 * (offsets relative to the data section) plus an optional `__metadata__` string map.
 * Files written here are byte-identical to the reference writer's: tensors ordered by dtype
 * (widest alignment first), then by name, so every tensor is aligned to its element size.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';
import { f32ToBf16, f32ToF16 } from './half-float.ts';
import { DTYPES, MAX_HEADER_BYTES, parseHeader, type SafetensorsDtype, type SafetensorsEntry, type SafetensorsTensor } from './safetensors-header.ts';

export type { SafetensorsDtype, SafetensorsEntry, SafetensorsTensor } from './safetensors-header.ts';

/** A tensor to write: raw little-endian bytes. F16/BF16 may also be given as a Float32Array. */
export interface SafetensorsInput {
  dtype: SafetensorsDtype;
  shape: number[];
  data: ArrayBufferView;
}

/** A whole file: tensors by name plus the `__metadata__` map. */
export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Bytes given as their size and a sequence of chunks, so a large file is written without one buffer of it all. */
export interface ChunkedBytes {
  size: number;
  chunks(): Iterable<Uint8Array>;
}

/**
 * Encodes tensors (and string metadata) as safetensors: the header, then each tensor's bytes
 * (a half type converted when its chunk is taken), never one buffer of the whole file.
 */
export function safetensorsChunks(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): ChunkedBytes {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const spec = DTYPES[t.dtype];
    if (!spec) throw new BonsaiError(`tensor ${name}: unsupported dtype ${String(t.dtype)}`);
    if (name === '__metadata__' || name === '') throw new BonsaiError(`tensor name ${JSON.stringify(name)} is reserved`);
    const want = numel(name, t.shape) * spec.size;
    const have = t.data instanceof Float32Array && (t.dtype === 'F16' || t.dtype === 'BF16') ? t.data.length * 2 : ArrayBuffer.isView(t.data) ? t.data.byteLength : -1;
    if (have !== want) {
      if (have < 0) throw new BonsaiError(`tensor ${name}: data is not a typed array`);
      throw new BonsaiError(`tensor ${name}: shape [${t.shape}] × ${t.dtype} needs ${want} bytes, data has ${have}`);
    }
    return { name, t, size: want, rank: spec.rank };
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
    header[e.name] = { dtype: e.t.dtype, shape: e.t.shape, data_offsets: [offset, offset + e.size] };
    offset += e.size;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = Buffer.alloc(8 + json.length);
  head.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(head, 8);
  return {
    size: head.length + offset,
    *chunks() {
      yield head;
      for (const e of entries) yield toBytes(e.name, e.t);
    },
  };
}

/** Encodes tensors (and string metadata) as safetensors bytes, in one buffer (small files). */
export function safetensorsBuffer(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): Buffer {
  const file = safetensorsChunks(tensors, metadata);
  const out = Buffer.alloc(file.size);
  let at = 0;
  for (const c of file.chunks()) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Writes a safetensors file, tensor by tensor. See `safetensorsChunks`. */
export function writeSafetensors(path: string, tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of safetensorsChunks(tensors, metadata).chunks()) writeAll(fd, c);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `bytes` at the file's current end, in calls of at most 1 GiB. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, Math.min(READ_CHUNK, bytes.byteLength - off));
}

/**
 * Reads and fully validates a safetensors file; any defect is a BonsaiError naming the file.
 * Tensor by tensor from their offsets (openSafetensors): never one buffer of the whole file,
 * so files past 2 GiB read too.
 */
export function readSafetensors(path: string): SafetensorsFile {
  const file = openSafetensors(path);
  try {
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const name of file.names()) tensors[name] = file.read(name);
    return { tensors, metadata: file.metadata };
  } finally {
    file.close();
  }
}

/** An open safetensors file: its header, read once; each tensor read from its offsets on demand. */
export interface SafetensorsReader {
  readonly path: string;
  readonly metadata: Record<string, string>;
  names(): string[];
  /** The header entry of `name`, or undefined. No tensor bytes are read. */
  entry(name: string): SafetensorsEntry | undefined;
  /** Reads one tensor (F16/BF16 widened to float32) into a fresh buffer of its own. */
  read(name: string): SafetensorsTensor;
  close(): void;
}

/** Bytes per read call: fs reads are limited to 2 GiB, and a tensor may be larger. */
const READ_CHUNK = 1 << 30;

/**
 * Opens a safetensors file of any size: reads and validates the header (as
 * readSafetensorsBuffer does), then reads tensors one at a time from their offsets. Peak
 * memory is the tensor being read (twice for a half type while it widens), never the file.
 */
export function openSafetensors(path: string): SafetensorsReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new BonsaiError(`cannot read safetensors file: ${(e as Error).message}`, { where: path, cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    const fail = (msg: string): never => {
      throw new BonsaiError(`not a valid safetensors file: ${msg}`, { where: path });
    };
    if (size < 8) fail(`truncated: ${size} bytes, too short for the 8-byte header length`);
    const lenBytes = Buffer.alloc(8);
    readFully(fd, lenBytes, 0);
    const n = lenBytes.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES)) fail(`header says it is ${n} bytes; more than the ${MAX_HEADER_BYTES} allowed, so this is probably not safetensors`);
    const headerLen = Number(n);
    if (8 + headerLen > size) fail(`truncated: header says ${headerLen} bytes, file has ${size - 8} after the length`);
    const header = Buffer.alloc(headerLen);
    readFully(fd, header, 8);
    const dataStart = 8 + headerLen;
    const parsed = parseHeader(header.toString('utf8'), size - dataStart, fail);
    let open = true;
    return {
      path,
      metadata: parsed.metadata,
      names: () => [...parsed.entries.keys()],
      entry: (name) => parsed.entries.get(name),
      read(name) {
        const e = parsed.entries.get(name);
        if (!e) throw new BonsaiError(`tensor ${name} is not in the file`, { where: path });
        if (!open) throw new Error(`internal: ${path} read after close`);
        // A fresh ArrayBuffer per tensor: aligned for any element type, and freed with it.
        const bytes = new Uint8Array(new ArrayBuffer(e.end - e.begin));
        readFully(fd, bytes, dataStart + e.begin);
        return { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].view(bytes.buffer as ArrayBuffer) };
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Fills `into` from file position `at` (a JS number: exact past 2 GiB), in chunks. */
function readFully(fd: number, into: Uint8Array, at: number): void {
  for (let off = 0; off < into.byteLength; ) {
    const got = readSync(fd, into, off, Math.min(READ_CHUNK, into.byteLength - off), at + off);
    if (got === 0) throw new Error('unexpected end of file');
    off += got;
  }
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
  const dataStart = 8 + headerLen;
  const { entries, metadata } = parseHeader(Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8'), buf.byteLength - dataStart, fail);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [key, e] of entries) {
    // slice() copies into a fresh, aligned ArrayBuffer: typed arrays need element alignment.
    const bytes = buf.buffer.slice(buf.byteOffset + dataStart + e.begin, buf.byteOffset + dataStart + e.end) as ArrayBuffer;
    tensors[key] = { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].view(bytes) };
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
