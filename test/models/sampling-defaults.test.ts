import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHfTokenizer } from '../../src/models/hf-tokenizer.ts';
import { describeSampling, resolveSampling } from '../../src/models/sampling-defaults.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { bonsai } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';
import { parseRecipe } from '../../src/recipe/index.ts';
import { train } from '../../src/trainer/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';

const root = tempDir('bonsai-gencfg-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** The qwen3 fixture with its generation_config.json's sampling fields replaced. */
function withGeneration(fields: Record<string, unknown>): string {
  const dir = join(root, `g${n++}`);
  cpSync('test/fixtures/hf/qwen3', dir, { recursive: true });
  const g = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
  delete g.do_sample;
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ ...g, ...fields }));
  return dir;
}

const GEN = { fallbackTemperature: 0.8 };
const RL = { fallbackTemperature: 1, alwaysSample: true };

describe("generation_config.json's sampling fields as defaults", () => {
  it('fill what the user left out, and say which came from the file', () => {
    const tok = loadHfTokenizer(withGeneration({ do_sample: true, temperature: 0.6, top_p: 0.95, top_k: 20 }));
    const s = resolveSampling({}, tok, GEN);
    expect(s).toMatchObject({ temperature: 0.6, topP: 0.95, topK: 20 });
    expect(Object.keys(s.fromFile)).toEqual(['temperature', 'top_p', 'top_k']);
    expect(describeSampling(s)).toMatch(/^sampling: temperature 0\.6, top_p 0\.95, top_k 20; temperature from .*generation_config\.json/);
    const mine = resolveSampling({ temperature: 0.2, topK: 5 }, tok, GEN);
    expect(mine).toMatchObject({ temperature: 0.2, topK: 5, topP: 0.95 });
    expect(Object.keys(mine.fromFile)).toEqual(['top_p']);
  });

  it('do_sample false makes generate greedy, but not RL (which samples its groups, noting it)', () => {
    const tok = loadHfTokenizer(withGeneration({ do_sample: false, temperature: 0.7, top_p: 0.5 }));
    expect(resolveSampling({}, tok, GEN)).toMatchObject({ temperature: 0, topP: undefined });
    const rl = resolveSampling({}, tok, RL);
    expect(rl).toMatchObject({ temperature: 0.7, topP: 0.5 });
    expect(rl.notes[0]).toMatch(/do_sample false is not applied: RL samples its rollouts/);
  });

  it("a file naming no sampling field, and byte/gpt2 tokenizers, keep bonsai's defaults", () => {
    for (const tok of [loadHfTokenizer(withGeneration({})), createTokenizer('byte')]) {
      const s = resolveSampling({}, tok, GEN);
      expect(s).toMatchObject({ temperature: 0.8, topP: undefined, topK: undefined, fromFile: {} });
    }
  });

  it('a bad value is an error naming the file and the field', () => {
    expect(() => loadHfTokenizer(withGeneration({ top_p: 2 }))).toThrow(/generation_config\.json: top_p must be in \(0, 1\], got 2/);
    expect(() => loadHfTokenizer(withGeneration({ do_sample: 'yes' }))).toThrow(/generation_config\.json: do_sample must be true or false/);
  });

  it('bonsai generate says which settings came from the file', () => {
    const dir = withGeneration({ do_sample: true, temperature: 0.5, top_k: 3 });
    const r = bonsai(['generate', '--hf', dir, '--prompt', 'the cat', '--max-new-tokens', '2', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sampling: temperature 0\.5, top_k 3; --temperature from .*generation_config\.json; --top-k from .*generation_config\.json/);
  });
});

describe('RL rollouts take generation_config.json as defaults', () => {
  it("the run's params hold the values used and name the file for each it gave", async () => {
    class ParamTracker extends NullTracker {
      params: Record<string, string> = {};
      override async logParams(p: Record<string, string>): Promise<void> {
        Object.assign(this.params, p);
      }
    }
    const model = withGeneration({ do_sample: true, temperature: 0.7, top_k: 5 });
    const data = join(root, 'rl-prompts.jsonl');
    writeFileSync(data, [{ prompt: 'the cat' }, { prompt: 'a dog' }].map((l) => JSON.stringify(l)).join('\n'));
    const recipe = parseRecipe(
      `run: { name: rl-gen, seed: 0, out_dir: ${join(root, 'rl-out')} }
backend: cpu
model: { init: { hf: ${model} } }
data: { train: { format: jsonl, path: ${data} } }
trainer: { kind: rl, steps: 1, batch_size: 2, group_size: 2, max_new_tokens: 3, top_p: 0.9, optimizer: { kind: adamw, lr: 1.0e-3 }, log_every: 1 }
rewards: [ { name: short, kind: regex, pattern: "^.{0,3}$", weight: 1.0 } ]
checkpoint: { every: 0, keep: 1 }
tracking: { uri: none }
`,
      join(root, 'rl.yaml'),
    );
    const tracker = new ParamTracker();
    const lines: string[] = [];
    await train(recipe, { tracker, onLog: (l) => lines.push(l) });
    expect(tracker.params['trainer.temperature']).toBe('0.7');
    expect(tracker.params['trainer.top_k']).toBe('5');
    expect(tracker.params['trainer.top_p']).toBe('0.9'); // the recipe's own
    expect(tracker.params['trainer.temperature.source']).toMatch(/generation_config\.json$/);
    expect(tracker.params['trainer.top_k.source']).toMatch(/generation_config\.json$/);
    expect(tracker.params['trainer.top_p.source']).toBeUndefined();
    expect(lines.some((l) => /^rollout sampling: temperature 0\.7, top_p 0\.9, top_k 5/.test(l))).toBe(true);
  });
});
