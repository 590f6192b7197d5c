/**
 * Hugging Face tensors ↔ bonsai parameter values, for any family, by its tensor table
 * (family.ts's HfTensorSpec). Bonsai's layouts are x·W with W [in, out] (../layout.ts);
 * nn.Linear stores [out, in], so `linear` tensors are transposed; fused tensors are split
 * into their parts.
 */
import type { DecoderConfig, HfTensorSpec } from './family.ts';
import { familyOf } from './index.ts';

/** Every tensor a checkpoint of this config holds, by Hugging Face name. */
export function hfTensorSpecs(c: DecoderConfig): Map<string, HfTensorSpec> {
  return familyOf(c).tensors(c);
}

/**
 * One HF tensor → its bonsai parameters (one, or the parts of a fused tensor), by path. A
 * `copy`/`conv1d` tensor is returned as given, not copied: a caller reading tensor by tensor
 * owns each one.
 */
export function hfTensorToBonsai(c: DecoderConfig, spec: HfTensorSpec, data: Float32Array): Array<[string, Float32Array]> {
  const parts = toBonsai(spec, data, c);
  return spec.paths.map((path, p) => [path, parts[p]!]);
}

/** HF tensors from bonsai parameter values: the inverse of `hfTensorToBonsai`. */
export function bonsaiToHf(c: DecoderConfig, values: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const get = (path: string) => {
    const v = values.get(path);
    if (!v) throw new Error(`internal: no value for parameter ${path}`);
    return v;
  };
  for (const [name, spec] of hfTensorSpecs(c)) out.set(name, toHf(spec, spec.paths.map(get), c));
  return out;
}

/** Rows of a tensor: its first dim, or 1 for a vector (a fused bias is one row). */
function rowsOf(spec: HfTensorSpec): number {
  return spec.shape.length === 2 ? spec.shape[0]! : 1;
}

function toBonsai(spec: HfTensorSpec, data: Float32Array, c: DecoderConfig): Float32Array[] {
  const rows = rowsOf(spec);
  const cols = data.length / rows;
  switch (spec.kind) {
    case 'copy':
    case 'conv1d':
      return [data];
    case 'linear':
      return [transpose(data, rows, cols)];
    case 'columns':
      return splitColumns(data, rows, cols / spec.paths.length, spec.paths.length);
    case 'heads': {
      // nn.Linear [3·H·dh, in] → [in, 3·H·dh], whose columns run head by head, q|k|v each.
      const [inDim, fused] = spec.shape.length === 2 ? [cols, transpose(data, rows, cols)] : [1, data];
      return splitHeads(fused, inDim, c);
    }
  }
}

function toHf(spec: HfTensorSpec, parts: Float32Array[], c: DecoderConfig): Float32Array {
  const rows = rowsOf(spec);
  switch (spec.kind) {
    case 'copy':
    case 'conv1d':
      return parts[0]!.slice();
    case 'linear':
      return transpose(parts[0]!, spec.shape[1]!, rows);
    case 'columns':
      return joinColumns(parts, rows);
    case 'heads': {
      if (spec.shape.length !== 2) return joinHeads(parts, 1, c);
      return transpose(joinHeads(parts, spec.shape[1]!, c), spec.shape[1]!, rows);
    }
  }
}

/** [rows, n·w] → n blocks [rows, w], block p holding columns p·w … (p+1)·w − 1. */
function splitColumns(a: Float32Array, rows: number, w: number, n: number): Float32Array[] {
  const out = Array.from({ length: n }, () => new Float32Array(rows * w));
  for (let r = 0; r < rows; r++) for (let p = 0; p < n; p++) out[p]!.set(a.subarray(r * n * w + p * w, r * n * w + (p + 1) * w), r * w);
  return out;
}

/** n blocks [rows, w] → [rows, n·w] (inverse of splitColumns). */
function joinColumns(parts: Float32Array[], rows: number): Float32Array {
  const w = parts[0]!.length / rows;
  const n = parts.length;
  const out = new Float32Array(rows * n * w);
  for (let r = 0; r < rows; r++) parts.forEach((p, i) => out.set(p.subarray(r * w, (r + 1) * w), r * n * w + i * w));
  return out;
}

/** [rows, H·3dh] with per-head q|k|v columns → three [rows, H·dh] (head h at columns h·dh…). */
function splitHeads(fused: Float32Array, rows: number, c: DecoderConfig): Float32Array[] {
  const { nHeads: H, dHead: dh } = c;
  const parts = [0, 1, 2].map(() => new Float32Array(rows * H * dh));
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      for (let p = 0; p < 3; p++) {
        const src = r * 3 * H * dh + h * 3 * dh + p * dh;
        parts[p]!.set(fused.subarray(src, src + dh), r * H * dh + h * dh);
      }
    }
  }
  return parts;
}

/** Three [rows, H·dh] → [rows, H·3dh] with per-head q|k|v columns (inverse of splitHeads). */
function joinHeads(parts: Float32Array[], rows: number, c: DecoderConfig): Float32Array {
  const { nHeads: H, dHead: dh } = c;
  const fused = new Float32Array(rows * 3 * H * dh);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      for (let p = 0; p < 3; p++) {
        const src = r * H * dh + h * dh;
        fused.set(parts[p]!.subarray(src, src + dh), r * 3 * H * dh + h * 3 * dh + p * dh);
      }
    }
  }
  return fused;
}

/** Row-major [rows, cols] → [cols, rows]. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = a[r * cols + k]!;
  return out;
}
