/**
 * Reading config.json's fields, for every family module: each problem is collected (naming the
 * file and the field) rather than thrown, so a user fixes a checkpoint in one pass. Also the
 * readers several families share: sliding-window layer types, the model dtype (RoPE: rope.ts).
 */
import { BonsaiError } from '../../errors.ts';

type Json = Record<string, unknown>;

/** The MLP's nonlinearity: exact GELU (erf), GELU's tanh form, or SiLU. */
export type Activation = 'gelu' | 'gelu_tanh' | 'silu';

/** config.json's fields, read with their problems collected. */
export class HfFields {
  readonly problems: BonsaiError[] = [];

  constructor(
    readonly json: Json,
    readonly file: string,
  ) {}

  bad(field: string, msg: string): void {
    this.problems.push(new BonsaiError(`${field}: ${msg}`, { where: this.file }));
  }

  /** The field's value, or `fallback` when it is absent or null. */
  get(field: string, fallback?: unknown): unknown {
    const v = this.json[field];
    return v === undefined || v === null ? fallback : v;
  }

  /** A positive integer (1 after a problem, so later arithmetic stays finite). */
  int(field: string, fallback?: number): number {
    const v = this.get(field, fallback);
    if (Number.isInteger(v) && (v as number) > 0) return v as number;
    this.bad(field, v === undefined ? 'missing' : `expected a positive integer, got ${JSON.stringify(v)}`);
    return 1;
  }

  /** A positive number. */
  num(field: string, fallback?: number): number {
    const v = this.get(field, fallback);
    if (typeof v === 'number' && v > 0) return v;
    this.bad(field, v === undefined ? 'missing' : `expected a positive number, got ${JSON.stringify(v)}`);
    return 1;
  }

  /** A positive number; null means none, and an absent field is `absent` (soft-capping: HF's defaults differ by family). */
  optionalPositive(field: string, absent?: number): number | undefined {
    if (this.json[field] === undefined) return absent;
    const v = this.get(field);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && v > 0) return v;
    this.bad(field, `must be a positive number or null, got ${JSON.stringify(v)}`);
    return undefined;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.get(field, fallback);
    if (typeof v === 'boolean') return v;
    this.bad(field, `expected true or false, got ${JSON.stringify(v)}`);
    return fallback;
  }

  /** The MLP activation from the first of `fields` present; `names` maps config.json's names to bonsai's. */
  activation(fields: string[], names: Record<string, Activation>, fallback: string): Activation {
    const field = fields.find((k) => this.get(k) !== undefined) ?? fields[0]!;
    const v = String(this.get(field, fallback));
    if (v in names) return names[v]!;
    this.bad(field, `"${v}" not supported (bonsai implements ${Object.keys(names).map((n) => `"${n}"`).join(', ')} here)`);
    return Object.values(names)[0]!;
  }

  /** A field this family's models never set to `value`. */
  refuse(field: string, value: unknown, why: string): void {
    if (this.json[field] === value) this.bad(field, `${JSON.stringify(value)} is not supported${why ? ` (${why})` : ''}`);
  }
}

const LAYER_TYPES: Record<string, boolean> = { sliding_attention: true, full_attention: false };

/**
 * Sliding-window attention: which layers attend to the last `sliding_window` positions only.
 * config.json's `layer_types` decides when present; else `sliding(i)`, the family's pattern
 * (undefined: no window). A window larger than max_position_embeddings is a config error.
 */
export function readWindow(f: HfFields, nLayers: number, maxPositions: number, sliding?: (i: number) => boolean, defaultSize?: number): { size: number; layers: boolean[] } | undefined {
  const types = f.get('layer_types');
  let layers: boolean[] | undefined;
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length !== nLayers) {
      f.bad('layer_types', `expected a list of ${nLayers} entries (one per layer), got ${JSON.stringify(types)}`);
      return undefined;
    }
    layers = types.map((t, i) => {
      if (typeof t === 'string' && t in LAYER_TYPES) return LAYER_TYPES[t]!;
      f.bad(`layer_types[${i}]`, `${JSON.stringify(t)} is not a layer type bonsai implements (${Object.keys(LAYER_TYPES).join(', ')})`);
      return false;
    });
  } else if (sliding) layers = Array.from({ length: nLayers }, (_, i) => sliding(i));
  if (!layers?.some(Boolean)) return undefined;
  // transformers fills an absent sliding_window with the family's default (Mistral, Gemma: 4096).
  const size = f.json.sliding_window === undefined ? defaultSize : f.get('sliding_window');
  if (size === undefined) {
    // null turns a family's own window off (Mistral v0.2 on); layer_types asking for one needs its size.
    if (types !== undefined) f.bad('sliding_window', 'missing or null, but layer_types has sliding_attention layers');
    return undefined;
  }
  if (!Number.isInteger(size) || (size as number) <= 0) {
    f.bad('sliding_window', `expected a positive integer, got ${JSON.stringify(size)}`);
    return undefined;
  }
  if ((size as number) > maxPositions) {
    const given = f.json.sliding_window === undefined ? ' (transformers\' default when the field is absent)' : '';
    f.bad('sliding_window', `${size}${given} is larger than the context (max_position_embeddings ${maxPositions}); a window that never binds is a config mistake`);
  }
  return { size: size as number, layers };
}

/** layer_types as config.json writes it. */
export function layerTypesJson(window: { layers: boolean[] } | undefined, nLayers: number): string[] {
  return Array.from({ length: nLayers }, (_, i) => (window?.layers[i] ? 'sliding_attention' : 'full_attention'));
}

/**
 * x rounded to the dtype the model computes in (config.json's torch_dtype): Gemma multiplies
 * the embedding by √d as a tensor of the weights' dtype, so a bf16 model uses bf16(√d).
 */
export function inModelDtype(f: HfFields, x: number): number {
  const dtype = f.get('torch_dtype', f.get('dtype', 'float32'));
  const f32 = Math.fround(x);
  if (dtype === 'bfloat16') {
    const bits = new Uint32Array(new Float32Array([f32]).buffer)[0]!;
    const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000; // round to nearest even
    return new Float32Array(new Uint32Array([rounded >>> 0]).buffer)[0]!;
  }
  if (dtype === 'float16') return roundToHalf(f32);
  return f32;
}

/** Nearest float16 value (normal range: Gemma's scales are small positive numbers). */
function roundToHalf(x: number): number {
  const e = Math.floor(Math.log2(Math.abs(x)));
  const step = Math.pow(2, e - 10);
  const q = x / step;
  const r = Math.round(q);
  const even = Math.abs(q - Math.trunc(q)) === 0.5 ? 2 * Math.round(q / 2) : r; // ties to even
  return even * step;
}
