/**
 * SAE files: `<dir>/sae.json` (hook, the frozen model's fingerprint, sizes, metrics, training
 * settings) + `<dir>/sae.safetensors` (W_enc, b_enc, W_dec, b_dec; hook and fingerprint also
 * in its `__metadata__`). Both are written to a sibling temp folder that is renamed into
 * place, so a crash never leaves half an SAE. Loading checks the fingerprint and the hook:
 * an SAE's latents mean nothing on another model's, or another hook's, activations.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { readSafetensors, writeSafetensors } from '../models/safetensors.ts';
import { Sae, SAE_WEIGHTS, type SaeMeta, type SaeWeightName } from './sae.ts';

const SAE_FORMAT = 'bonsai-sae/1';

/** Writes the SAE's two files into `dir` (which may hold other files, e.g. a probe's). Not atomic on its own: see saveSae. */
export function writeSaeFiles(dir: string, sae: Sae): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sae.json'), `${JSON.stringify({ format: SAE_FORMAT, ...sae.meta }, null, 2)}\n`);
  const tensors = Object.fromEntries(SAE_WEIGHTS.map((k) => {
    const t = sae.weights[k];
    return [k, { dtype: 'F32' as const, shape: t.shape, data: t.dataSync() as Float32Array }];
  }));
  writeSafetensors(join(dir, 'sae.safetensors'), tensors, { format: SAE_FORMAT, hook: sae.meta.hook, fingerprint: sae.meta.fingerprint });
}

/** Saves the SAE as `dir` atomically: written into a sibling temp folder, then renamed over `dir`. */
export function saveSae(dir: string, sae: Sae): void {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    writeSaeFiles(tmp, sae);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** What loading needs to know about the model: its fingerprint and the hook the SAE is to read. */
export interface SaeTarget {
  fingerprint: string;
  hook: string;
  /** Skip the fingerprint check (e.g. comparing a policy's activations with the base's). */
  allowOtherModel?: boolean;
}

/**
 * Reads the SAE in `dir` for `target`. An SAE trained on another model (fingerprint) or on
 * another hook is refused with a message that names both.
 */
export function loadSae(dir: string, target: SaeTarget): Sae {
  const metaPath = join(dir, 'sae.json');
  if (!existsSync(metaPath)) throw new BonsaiError(`${dir} is not an SAE: it has no sae.json`, { hint: 'train one with `bonsai sae train RECIPE`' });
  let meta: SaeMeta & { format?: string };
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as SaeMeta & { format?: string };
  } catch (e) {
    throw new BonsaiError(`cannot read SAE metadata ${metaPath}: ${(e as Error).message}`);
  }
  if (meta.format !== SAE_FORMAT) throw new BonsaiError(`${metaPath}: format "${String(meta.format)}" is not ${SAE_FORMAT}`);
  if (meta.hook !== target.hook) {
    throw new BonsaiError(`SAE ${dir} was trained on hook ${meta.hook}, not ${target.hook}`, { hint: `read ${meta.hook}, or train an SAE on ${target.hook} (sae.hook)` });
  }
  if (meta.fingerprint !== target.fingerprint && !target.allowOtherModel) {
    throw new BonsaiError(
      `SAE ${dir} was trained on another model (fingerprint ${meta.fingerprint.slice(0, 12)}…); this model's fingerprint is ${target.fingerprint.slice(0, 12)}…`,
      { hint: 'train the SAE on this model (bonsai sae train), or load the model it was trained on' },
    );
  }
  const file = readSafetensors(join(dir, 'sae.safetensors'));
  const shapes: Record<SaeWeightName, number[]> = { W_enc: [meta.d, meta.latents], b_enc: [meta.latents], W_dec: [meta.latents, meta.d], b_dec: [meta.d] };
  const weights = {} as Record<SaeWeightName, tf.Tensor>;
  for (const k of SAE_WEIGHTS) {
    const t = file.tensors[k];
    if (!t || t.shape.join(',') !== shapes[k].join(',')) {
      tf.dispose(Object.values(weights));
      throw new BonsaiError(`SAE ${dir}: sae.safetensors ${t ? `has ${k} of shape [${t.shape}], expected [${shapes[k]}]` : `lacks tensor "${k}"`}`);
    }
    weights[k] = tf.tensor(t.data as Float32Array, t.shape);
  }
  const { format: _format, ...rest } = meta;
  return new Sae(rest, weights);
}
