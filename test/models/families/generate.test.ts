import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHfModel } from '../../../src/models/families/load.ts';
import { loadHfTokenizer } from '../../../src/models/hf-tokenizer.ts';
import { generate } from '../../../src/models/index.ts';
import { useCpu } from '../../helpers/tiny.ts';

// generate() takes any CausalLM; test/cli/generate-hf.test.ts runs `bonsai generate --hf` itself.
const ROOT = 'test/fixtures/hf';

beforeAll(async () => {
  await useCpu();
});

// Mistral's and Gemma's windows are 4 tokens: the cached generation runs past them.
describe.each(['llama3', 'qwen2', 'pythia', 'mistral', 'gemma2', 'gemma3', 'olmo2'])('%s: text in, text out', (name) => {
  it("generate() greedily reproduces the reference's tokens from the tokenizer's prompt ids (KV cache)", () => {
    const dir = join(ROOT, name);
    const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as { text: string; greedy_new_ids: number[] };
    const tok = loadHfTokenizer(dir);
    const model = loadHfModel(dir);
    const prompt = tok.encode(golden.text);
    const out = generate(model, [prompt], { maxNewTokens: golden.greedy_new_ids.length, temperature: 0, stopTokens: [...tok.eosIds] });
    // Stops at the first end-of-sequence id, if the reference emitted one.
    const stopAt = golden.greedy_new_ids.findIndex((id) => tok.eosIds.includes(id));
    expect(out.tokens[0]).toEqual(stopAt < 0 ? golden.greedy_new_ids : golden.greedy_new_ids.slice(0, stopAt + 1));
    model.dispose();
  });
});
