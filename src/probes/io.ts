/**
 * Probe files: `<dir>/probe.json` (hook, level, kind, threshold, metrics, the frozen
 * model's fingerprint) + `<dir>/probe.safetensors` (weights). Loading checks the
 * fingerprint, so a probe is never silently applied to a model it was not trained on.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { readSafetensors, writeSafetensors } from '../models/safetensors.ts';
import { loadSae, writeSaeFiles } from '../sae/io.ts';
import type { CausalLM } from '../models/model.ts';
import { checkProbeHook } from './capture.ts';
import { checkLogitLensHook, LogitLens } from './logit-lens.ts';
import { Probe, weightNames, type ProbeMeta } from './probe.ts';

/** Writes a probe into `dir` (created if needed). */
export function saveProbe(dir: string, probe: Probe): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'probe.json'), `${JSON.stringify({ format: 'bonsai-probe/1', ...probe.meta }, null, 2)}\n`);
  const tensors = Object.fromEntries(
    Object.entries(probe.weights).map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.dataSync() as Float32Array }]),
  );
  writeSafetensors(join(dir, 'probe.safetensors'), tensors, { hook: probe.meta.hook, fingerprint: probe.meta.fingerprint });
  // An SAE-latent probe carries its SAE, so the directory is all a reward or `scrub` needs.
  if (probe.sae) writeSaeFiles(dir, probe.sae);
}

/**
 * Reads a probe from `dir` for use on `model` (a frozen copy). A model with another
 * fingerprint, or without the probe's hook, is an error that says so.
 */
export function loadProbe(dir: string, model: CausalLM, opts: { allowOtherModel?: boolean } = {}): Probe {
  let meta: ProbeMeta;
  try {
    meta = JSON.parse(readFileSync(join(dir, 'probe.json'), 'utf8')) as ProbeMeta;
  } catch (e) {
    throw new BonsaiError(`cannot read probe metadata ${join(dir, 'probe.json')}: ${(e as Error).message}`);
  }
  checkProbeHook(model, meta.hook, `probe ${join(dir, 'probe.json')}`);
  const fp = model.fingerprint();
  if (meta.fingerprint !== fp && !opts.allowOtherModel) {
    throw new BonsaiError(
      `probe ${dir} was trained on another model (fingerprint ${meta.fingerprint.slice(0, 12)}…); this model's fingerprint is ${fp.slice(0, 12)}…`,
      { hint: 'train the probe on this model (bonsai probe train), or load the model the probe was trained on' },
    );
  }
  const file = readSafetensors(join(dir, 'probe.safetensors'));
  const weights: Record<string, tf.Tensor> = {};
  for (const k of weightNames(meta.kind)) {
    const t = file.tensors[k];
    if (!t) throw new BonsaiError(`probe ${dir}: probe.safetensors lacks tensor "${k}"`);
    weights[k] = tf.tensor(t.data as Float32Array, t.shape);
  }
  if (meta.features === 'logit_lens') {
    checkLogitLensHook(meta.hook, `probe ${join(dir, 'probe.json')}`);
    return new Probe(meta, weights, undefined, new LogitLens(model));
  }
  if (meta.features !== 'sae') return new Probe(meta, weights);
  try {
    return new Probe(meta, weights, loadSae(dir, { fingerprint: fp, hook: meta.hook, allowOtherModel: opts.allowOtherModel }));
  } catch (e) {
    tf.dispose(Object.values(weights));
    throw e;
  }
}
