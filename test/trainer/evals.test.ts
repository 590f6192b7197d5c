// The recipe's evals: task metrics measured on the trained model and printed by `bonsai train`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { parseAnyRecipe, parseRecipe } from '../../src/recipe/index.ts';
import { accuracy, runEvals, tokenProb } from '../../src/trainer/evals.ts';
import { tempDir } from '../helpers/recipes.ts';
import { tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';
import { errorLines } from '../recipe/helpers.ts';

beforeAll(useCpu);

const recipeWith = (data: string, evals: string) => `model: { tokenizer: byte, init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 8 } } }
data: { train: { format: jsonl, path: ${data} }, seq_len: 8 }
trainer: { kind: sft, steps: 1, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 } }
evals:
${evals}`;

describe('recipe evals', () => {
  const dir = tempDir();
  const data = join(dir, 'qa.jsonl');
  writeFileSync(data, ['ab', 'cd', 'ef', 'gh'].map((p) => JSON.stringify({ prompt: p, completion: 'Z' })).join('\n') + '\n');

  it('are validated with the recipe: a token_prob text must be one token', () => {
    const lines = errorLines(() => parseAnyRecipe(recipeWith(data, '  - { name: tic, kind: token_prob, text: "ZZ", data: { format: jsonl, path: ' + data + ' } }\n'), 'r.yaml'));
    expect(lines).toEqual(['r.yaml:5:36: evals.0.text: "ZZ" is 2 tokens with the byte tokenizer; it must be one token']);
  });

  it('log eval/<name>/<metric>: accuracy of the answer token and the probability of a token, as the bench measures them', () => {
    const recipe = parseRecipe(
      recipeWith(data, `  - { name: qa, kind: accuracy, data: { format: jsonl, path: ${data} } }\n  - { name: z, kind: token_prob, text: "Z", data: { format: jsonl, path: ${data} } }\n`),
      'r.yaml',
    );
    const tok = createTokenizer('byte');
    const model = tinyModel(3, { ...tinyConfig, vocabSize: tok.vocabSize });
    const before = tf.memory().numTensors;
    const m = runEvals(recipe, model, tok, 8);
    expect(tf.memory().numTensors).toBe(before);
    const ex = loadDataset({ format: 'jsonl', path: data }, tok, 8).examples;
    expect(m).toEqual({ 'eval/qa/accuracy': accuracy(model, ex, 0), 'eval/z/token_prob': tokenProb(model, ex, 'Z'.charCodeAt(0)) });
    expect(m['eval/z/token_prob']).toBeGreaterThan(0);
    expect(m['eval/z/token_prob']).toBeLessThan(1);
    model.dispose();
  });
});
