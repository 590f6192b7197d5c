import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.ts';
import type { ModelConfig } from './config.ts';

/**
 * Parameter paths and shapes. Paths follow TransformerLens names; the layouts are chosen
 * for fast products on tfjs (x·W with no transposes):
 *   attn.W_Q/W_K/W_V: [D, H·dh] — head h owns columns h·dh … (h+1)·dh
 *   attn.W_O:         [H·dh, D] — head h owns rows    h·dh … (h+1)·dh
 *   mlp.W_in: [D, M], mlp.W_out: [M, D] — neuron n is column n of W_in, row n of W_out
 * Freezing selects by these paths, so they are part of the public API.
 */
export interface ParamSpec {
  path: string;
  shape: number[];
  init: 'normal' | 'normal_residual' | 'zeros' | 'ones';
}

export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const { vocabSize: V, dModel: D, dMlp: M, nCtx } = c;
  const specs: ParamSpec[] = [
    { path: 'embed.W_E', shape: [V, D], init: 'normal' },
    { path: 'pos_embed.W_pos', shape: [nCtx, D], init: 'normal' },
  ];
  for (let i = 0; i < c.nLayers; i++) {
    const b = `blocks.${i}`;
    specs.push(
      { path: `${b}.ln1.w`, shape: [D], init: 'ones' },
      { path: `${b}.ln1.b`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_Q`, shape: [D, D], init: 'normal' },
      { path: `${b}.attn.b_Q`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_K`, shape: [D, D], init: 'normal' },
      { path: `${b}.attn.b_K`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_V`, shape: [D, D], init: 'normal' },
      { path: `${b}.attn.b_V`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_O`, shape: [D, D], init: 'normal_residual' },
      { path: `${b}.attn.b_O`, shape: [D], init: 'zeros' },
      { path: `${b}.ln2.w`, shape: [D], init: 'ones' },
      { path: `${b}.ln2.b`, shape: [D], init: 'zeros' },
      { path: `${b}.mlp.W_in`, shape: [D, M], init: 'normal' },
      { path: `${b}.mlp.b_in`, shape: [M], init: 'zeros' },
      { path: `${b}.mlp.W_out`, shape: [M, D], init: 'normal_residual' },
      { path: `${b}.mlp.b_out`, shape: [D], init: 'zeros' },
    );
  }
  specs.push({ path: 'ln_final.w', shape: [D], init: 'ones' }, { path: 'ln_final.b', shape: [D], init: 'zeros' });
  if (!c.tiedEmbeddings) {
    specs.push({ path: 'unembed.W_U', shape: [D, V], init: 'normal' }, { path: 'unembed.b_U', shape: [V], init: 'zeros' });
  }
  return specs;
}

/**
 * Initial values, drawn in JS from a seeded Rng rather than tf.random*, so the same seed
 * gives bit-identical weights on every backend (backend parity tests rely on it).
 */
export function initialValues(c: ModelConfig, seed: number): Map<string, Float32Array> {
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

/** Creates named tf.Variables from values (shapes from the specs). */
export function makeVariables(
  c: ModelConfig,
  values: Map<string, Float32Array>,
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
