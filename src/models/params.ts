import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.ts';
import { paramSpecs } from './layout.ts';
import type { LMConfig } from './lm-config.ts';

export { paramSpecs, type ParamSpec } from './layout.ts';

/**
 * Initial values, drawn in JS from a seeded Rng rather than tf.random*, so the same seed
 * gives bit-identical weights on every backend (backend parity tests rely on it).
 */
export function initialValues(c: LMConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  // GPT-2 scales the projections that write into the residual stream by 1/√(2·layers).
  const residualStd = c.initStd / Math.sqrt(2 * c.nLayers);
  const out = new Map<string, Float32Array>();
  for (const spec of paramSpecs(c)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (spec.init === 'ones') data.fill(1);
    else if (spec.init !== 'zeros') {
      const std = spec.init === 'normal' ? c.initStd : residualStd;
      for (let j = 0; j < size; j++) data[j] = rng.normal() * std;
    }
    out.set(spec.path, data);
  }
  return out;
}

/**
 * Parameter values by path, as models are built from them: a Map, or a source that reads each
 * value when asked (families/load.ts reads a checkpoint's tensors one at a time that way).
 */
export type ParamValues = Pick<ReadonlyMap<string, Float32Array>, 'get'>;

/** Creates named tf.Variables from values (shapes from the specs); each value is asked for once. */
export function makeVariables(
  c: LMConfig,
  values: ParamValues,
  trainable: boolean,
  prefix: string,
): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const spec of paramSpecs(c)) {
    const data = values.get(spec.path);
    if (!data) throw new Error(`internal: no value for parameter ${spec.path}`);
    // Variable names must be unique per tfjs engine; the prefix keeps copies apart.
    const init = tf.tensor(data, spec.shape, 'float32');
    vars.set(spec.path, tf.variable(init, trainable, `${prefix}/${spec.path}`));
    init.dispose(); // the variable holds its own reference to the data
  }
  return vars;
}
