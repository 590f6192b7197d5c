/**
 * Permuting the axes of an array, in JS, for the wasm kernels in wasm-overrides.ts.
 * tfjs-backend-wasm's own Transpose walks the output element by element with a divide
 * per index (~8 ns/element); this copies contiguous runs or 2-D tiles (~1 ns/element).
 */

/** Runs at least this long are copied with TypedArray.set (faster than a loop there). */
const RUN_SET = 32;
type Arr = Float32Array | Int32Array | Uint8Array;

/** Drops size-1 axes and merges axes that stay adjacent and in order under perm. */
export function simplify(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keep = shape.map((d) => d !== 1);
  // Old axis → new index among kept axes.
  const idx: number[] = [];
  let k = 0;
  for (let a = 0; a < shape.length; a++) idx[a] = keep[a] ? k++ : -1;
  let s = shape.filter((_, a) => keep[a]);
  let p = perm.filter((a) => keep[a]).map((a) => idx[a]!);
  // Merge runs: output axes i, i+1 with p[i+1] = p[i] + 1 are one axis.
  let merged = true;
  while (merged && p.length > 1) {
    merged = false;
    for (let i = 0; i + 1 < p.length; i++) {
      if (p[i + 1] === p[i]! + 1) {
        const a = p[i]!;
        s = [...s.slice(0, a), s[a]! * s[a + 1]!, ...s.slice(a + 2)];
        p = p.filter((_, j) => j !== i + 1).map((q) => (q > a ? q - 1 : q));
        merged = true;
        break;
      }
    }
  }
  return { shape: s, perm: p };
}

/** out = x with axes permuted (x has `shape`; out[i₀…] = x[i_perm…]). */
export function permute(x: Arr, out: Arr, shape: readonly number[], perm: readonly number[]): void {
  const { shape: s, perm: p } = simplify(shape, perm);
  const r = s.length;
  if (r <= 1 || p.every((a, i) => a === i)) {
    out.set(x.subarray(0, out.length));
    return;
  }
  const inStrides = new Array<number>(r);
  inStrides[r - 1] = 1;
  for (let a = r - 2; a >= 0; a--) inStrides[a] = inStrides[a + 1]! * s[a + 1]!;
  const outShape = p.map((a) => s[a]!);
  const outStrides = new Array<number>(r);
  outStrides[r - 1] = 1;
  for (let i = r - 2; i >= 0; i--) outStrides[i] = outStrides[i + 1]! * outShape[i + 1]!;
  // Either the innermost axis stays innermost (copy runs of nB), or we copy T×T tiles of
  // the output's innermost axis (input axis p[r−1], stride sA in x) against the input's
  // innermost axis (output position q, stride sB in out).
  const runs = p[r - 1] === r - 1;
  const qOut = runs ? r - 1 : p.indexOf(r - 1);
  const nA = runs ? 1 : outShape[r - 1]!;
  const sA = runs ? 0 : inStrides[p[r - 1]!]!;
  const nB = s[r - 1]!;
  const sB = runs ? 1 : outStrides[qOut]!;
  // Every other output axis is looped over with an odometer.
  const rest: number[] = [];
  for (let i = 0; i < r; i++) if (i !== qOut && (runs || i !== r - 1)) rest.push(i);
  const counts = rest.map((i) => outShape[i]!);
  const ctr = new Array<number>(rest.length).fill(0);
  let inBase = 0;
  let outBase = 0;
  const T = 32;
  for (;;) {
    if (runs) {
      if (nB >= RUN_SET) out.set(x.subarray(inBase, inBase + nB), outBase);
      else for (let b = 0; b < nB; b++) out[outBase + b] = x[inBase + b]!;
    } else {
      // out[outBase + a + b·sB] = x[inBase + a·sA + b] for a < nA, b < nB.
      for (let b0 = 0; b0 < nB; b0 += T) {
        const b1 = Math.min(nB, b0 + T);
        for (let a0 = 0; a0 < nA; a0 += T) {
          const a1 = Math.min(nA, a0 + T);
          for (let b = b0; b < b1; b++) {
            const o = outBase + b * sB;
            const xi = inBase + b;
            for (let a = a0; a < a1; a++) out[o + a] = x[xi + a * sA]!;
          }
        }
      }
    }
    let d = rest.length - 1;
    for (; d >= 0; d--) {
      const ax = rest[d]!;
      ctr[d]!++;
      inBase += inStrides[p[ax]!]!;
      outBase += outStrides[ax]!;
      if (ctr[d]! < counts[d]!) break;
      inBase -= counts[d]! * inStrides[p[ax]!]!;
      outBase -= counts[d]! * outStrides[ax]!;
      ctr[d] = 0;
    }
    if (d < 0) return;
  }
}
