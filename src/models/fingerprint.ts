import { createHash } from 'node:crypto';

/**
 * sha256 over parameter paths (sorted), element counts and raw float bytes: two models
 * share a fingerprint exactly when every weight is bit-identical. Probes record it so
 * that loading one against another model is an error, not a silent mismatch.
 */
export function fingerprintOf(values: Map<string, Float32Array>): string {
  const h = createHash('sha256');
  for (const path of [...values.keys()].sort()) {
    const data = values.get(path)!;
    h.update(`${path}:${data.length};`);
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return `sha256:${h.digest('hex')}`;
}
