import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { decoderConfigFromHf } from '../../src/models/families/config.ts';
import { readHfCheckpoint } from '../../src/models/families/load.ts';
import type { LMConfig } from '../../src/models/lm-config.ts';

/** A fixture's golden.json (scripts/make-family-fixtures.py): PyTorch's logits for its input ids. */
export interface Golden {
  input_ids: number[][];
  logits: number[][][]; // [B, T, V]
  greedy_prompt_row: number;
  greedy_new_ids: number[];
}

export const HF_FIXTURES = 'test/fixtures/hf';

/** A fixture's config.json, as an object to change fields of. */
export function fixtureConfig(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(HF_FIXTURES, name, 'config.json'), 'utf8')) as Record<string, unknown>;
}

/** The message decoderConfigFromHf refuses `raw` with (read as `file`), or '' when it reads. */
export function configError(raw: Record<string, unknown>, file: string): string {
  try {
    decoderConfigFromHf(raw, file);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

export function readGolden(name: string): Golden {
  return JSON.parse(readFileSync(join(HF_FIXTURES, name, 'golden.json'), 'utf8')) as Golden;
}

/**
 * Max |logit − PyTorch| of a fixture's model with `change` applied to its config: how far a
 * flag the decoder ignored (or got wrong) would move the logits.
 */
export function goldenOffBy(name: string, change: Partial<LMConfig> = {}): number {
  const golden = readGolden(name);
  const { config, values } = readHfCheckpoint(join(HF_FIXTURES, name));
  const model = new HookedTransformer({ ...config, ...change }, values);
  const got = tf.tidy(() => model.forward(tf.tensor2d(golden.input_ids, undefined, 'int32')).logits.arraySync());
  model.dispose();
  return Math.max(...golden.logits.flatMap((row, b) => row.flatMap((want, t) => want.map((w, v) => Math.abs(got[b]![t]![v]! - w)))));
}
