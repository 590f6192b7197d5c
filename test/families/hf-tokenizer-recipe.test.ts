/**
 * A recipe started from a Hugging Face directory uses that directory's tokenizer (tokenizer hf,
 * implied by model.init.hf) and chat template: SFT and RL on messages data, the checkpoint
 * carrying the tokenizer to --resume and `generate --checkpoint`, the reward server encoding
 * with it; bad input refused while the recipe is checked, before a backend loads.
 */
import * as tf from '@tensorflow/tfjs';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderedInputIds as encodeRendered } from '../../src/models/input-ids.ts';
import { asHfTokenizer, createTokenizer } from '../../src/models/tokenizer.ts';
import { exportMergedCheckpoint } from '../../src/lora/export.ts';
import { loadHfModel } from '../../src/models/families/load.ts';
import { Probe } from '../../src/probes/probe.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { parseRecipe } from '../../src/recipe/index.ts';
import { RewardScorer } from '../../src/server/scorer.ts';
import { encodeText } from '../../src/server/texts.ts';
import { latestCheckpoint, loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const QWEN3 = 'test/fixtures/hf/qwen3';
const ask = (q: string) => [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: q }];
// The fixture's ChatML template, written out by hand for ask('the cat?') with the generation prompt.
const RENDERED = '<|endoftext|><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nthe cat?<|im_end|>\n<|im_start|>assistant\n';

function jsonl(dir: string, name: string, lines: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

function sftRecipe(dir: string, model = QWEN3): string {
  const data = jsonl(dir, 'sft.jsonl', ['the cat?', 'the mat?', 'a dog?', 'the sun?', 'a hat?'].map((q, i) => ({ messages: [...ask(q), { role: 'assistant', content: `on the mat ${i}.` }] })));
  return `
run: { name: hf-chat-sft, seed: 1, out_dir: ${join(dir, 'out')} }
backend: cpu
model: { init: { hf: ${model} } }
data: { train: { format: jsonl, path: ${data} }, seq_len: 48, eval_fraction: 0.2 }
trainer: { kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-3 }, eval: { every: 0, batches: 1 }, log_every: 1 }
checkpoint: { every: 0, keep: 2 }
tracking: { uri: none }
`;
}

function rlRecipe(dir: string, prompts: unknown[], model = QWEN3): string {
  const data = jsonl(dir, 'rl.jsonl', prompts);
  return `
run: { name: hf-chat-rl, seed: 0, out_dir: ${join(dir, 'rl-out')} }
backend: cpu
model: { init: { hf: ${model} } }
data: { train: { format: jsonl, path: ${data} } }
trainer: { kind: rl, steps: 2, batch_size: 2, group_size: 2, max_new_tokens: 4, optimizer: { kind: adamw, lr: 1.0e-3 }, log_every: 1 }
rewards: [ { name: short, kind: regex, pattern: "^.{0,3}$", weight: 1.0 } ]
checkpoint: { every: 0, keep: 1 }
tracking: { uri: none }
`;
}

describe('tokenizer hf from model.init.hf', () => {
  it('SFT on messages lines: 2 steps; the checkpoint carries the tokenizer to export, --resume, probe train and generate --checkpoint --messages', async () => {
    const dir = tempDir('bonsai-hf-chat-');
    const file = join(dir, 'sft.yaml');
    writeFileSync(file, sftRecipe(dir));
    const recipe = parseRecipe(readFileSync(file, 'utf8'), file);
    expect(recipe.model.tokenizer).toBe('hf');
    const r = await train(recipe, {});
    expect(r.step).toBe(2);
    expect(Number.isFinite(r.finalLoss)).toBe(true);
    const ck = latestCheckpoint(join(dir, 'out'))!;
    expect(loadCheckpoint(ck).tokenizer).toBe('hf');
    expect(existsSync(join(ck, 'tokenizer.json'))).toBe(true);
    const fromCk = createTokenizer('hf', ck);
    const fromDir = createTokenizer('hf', QWEN3);
    expect(fromCk.encode('the cat sat')).toEqual(fromDir.encode('the cat sat'));
    expect(encodeRendered(fromCk, RENDERED)).toEqual(encodeRendered(fromDir, RENDERED));
    expect([fromCk.eosId, fromCk.vocabSize]).toEqual([282, 283]);
    // Exported back to a Hugging Face directory, the model takes its tokenizer along.
    exportMergedCheckpoint(ck, join(dir, 'hf'));
    const exported = createTokenizer('hf', join(dir, 'hf'));
    expect(exported.encode('the cat sat')).toEqual(fromDir.encode('the cat sat'));
    expect(asHfTokenizer(exported)!.applyChatTemplate(ask('the cat?'), { addGenerationPrompt: true })).toBe(RENDERED);
    expect(asHfTokenizer(exported)!.eosIds).toEqual([282, 280]);

    const lines: string[] = [];
    const resumed = await train(parseRecipe(readFileSync(file, 'utf8'), file, { overrides: ['trainer.steps=3'] }), { resume: true, onLog: (l) => lines.push(l) });
    expect(resumed.step).toBe(3);
    expect(lines.some((l) => l.startsWith('resumed from'))).toBe(true);

    // A probe job on that checkpoint (init.checkpoint + tokenizer hf) reads its data with the checkpoint's tokenizer.
    const probeData = jsonl(dir, 'probe.jsonl', Array.from({ length: 16 }, (_, i) => ({ prompt: `q${i % 4}:`, completion: i % 2 ? ' on the mat' : ' a dog', label: i % 2 })));
    writeFileSync(join(dir, 'probe.yaml'), [
      `run: { name: hf-probe, seed: 0, out_dir: ${join(dir, 'probe-out')} }`,
      'job: probe',
      'backend: cpu',
      `model: { tokenizer: hf, init: { checkpoint: ${ck} } }`,
      `probes: [ { name: mat, hook: blocks.1.hook_resid_post, level: sequence, kind: { kind: logistic, l2: 1.0e-3 }, train: { data: ${probeData}, max_epochs: 3, seed: 0 } } ]`,
      'tracking: { uri: none }',
    ].join('\n'));
    // Omitted, the tokenizer would default to byte for init.checkpoint: refused, naming the fix.
    expect(() => parseRecipe(sftRecipe(dir).replace(`model: { init: { hf: ${QWEN3} } }`, `model: { init: { checkpoint: ${ck} } }`), file)).toThrow(/trained with the hf tokenizer, the recipe asks for byte \(set model\.tokenizer: hf\)/);
    const p = bonsai(['probe', 'train', join(dir, 'probe.yaml')]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/mat\s+blocks\.1\.hook_resid_post/);

    const g = bonsai(['generate', '--checkpoint', join(dir, 'out'), '--messages', JSON.stringify(ask('the cat?')), '--max-new-tokens', '3', '--temperature', '0', '--json', '--backend', 'cpu']);
    expect(g.stderr).not.toMatch(/Error/);
    expect(g.code).toBe(0);
    const out = JSON.parse(g.stdout.trim()) as { prompt: string; ids: number[] };
    expect(out.prompt).toBe(RENDERED);
    expect(out.ids.length).toBeGreaterThan(0);
    expect(out.ids.length).toBeLessThanOrEqual(3);
  });

  it('RL on messages prompts: 2 steps with no tensors left, and the reward server encodes with the same tokenizer', async () => {
    const dir = tempDir('bonsai-hf-chat-');
    const file = join(dir, 'rl.yaml');
    writeFileSync(file, rlRecipe(dir, [{ messages: ask('the cat?') }, { messages: ask('a dog?'), completion: 'no' }, { prompt: 'the mat' }]));
    const recipe = parseRecipe(readFileSync(file, 'utf8'), file);
    const tracker = new MemoryTracker();
    const before = tf.memory().numTensors;
    // Rendered as text and encoded plainly, each chat prompt would be ~105 tokens, past the 60 a
    // rollout leaves (n_ctx 64 − 4): the run getting through says rollouts read the special-aware ids.
    expect(createTokenizer('hf', QWEN3).encode(RENDERED).length).toBeGreaterThan(60);
    const r = await train(recipe, { tracker });
    expect(r.step).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(tracker.values('rewards/short/mean')).toHaveLength(2);
    const scorer = await RewardScorer.fromRecipe(recipe);
    try {
      expect(scorer.tokenizer.kind).toBe('hf');
      const e = encodeText(scorer.tokenizer, { prompt: RENDERED, completion: 'on' });
      expect(e.promptIds).toEqual(encodeRendered(createTokenizer('hf', QWEN3), RENDERED));
      const [scored] = await scorer.score([e]);
      expect(Number.isFinite(scored!.total)).toBe(true);
    } finally {
      scorer.dispose();
    }
  });

  it('refuses while checking the recipe: a directory without tokenizer.json, tokenizer hf without a model directory, a bad messages line, a template that fails', () => {
    const dir = tempDir('bonsai-hf-chat-');
    const model = join(dir, 'm');
    cpSync(QWEN3, model, { recursive: true });
    rmSync(join(model, 'tokenizer.json'));
    const file = join(dir, 'r.yaml');
    expect(() => parseRecipe(sftRecipe(dir, model), file)).toThrow(new RegExp(`model\\.init\\.hf[\\s\\S]*${join(model, 'tokenizer.json')}: missing`));
    const fresh = sftRecipe(dir).replace(`model: { init: { hf: ${QWEN3} } }`, 'model: { tokenizer: hf, init: { config: { d_model: 16, n_layers: 1, n_heads: 2, n_ctx: 16 } } }');
    expect(() => parseRecipe(fresh, file)).toThrow(/model\.tokenizer[\s\S]*tokenizer hf reads tokenizer\.json from the model's directory/);

    const rl = join(dir, 'rl.jsonl');
    expect(() => parseRecipe(rlRecipe(dir, [{ messages: ask('ok') }, { messages: [{ role: 'user' }] }]), file)).toThrow(`${rl}:2: messages[0].content must be a string`);
    cpSync(join(QWEN3, 'tokenizer.json'), join(model, 'tokenizer.json'));
    const config = JSON.parse(readFileSync(join(model, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: '{% for m in messages %}{{ m.content | nosuchfilter }}{% endfor %}' }));
    expect(() => parseRecipe(rlRecipe(dir, [{ messages: ask('ok') }], model), file)).toThrow(`${rl}:1: ${join(model, 'tokenizer_config.json')}: chat_template failed to render`);
    // SFT messages lines are rendered while checking too (the last turn must be the assistant's).
    expect(() => parseRecipe(sftRecipe(dir, model), file)).toThrow(`${join(dir, 'sft.jsonl')}:1: ${join(model, 'tokenizer_config.json')}: chat_template failed to render`);
    const sftText = sftRecipe(dir).replace(/path: \S+sft\.jsonl/, `path: ${join(dir, 'sft2.jsonl')}`);
    jsonl(dir, 'sft2.jsonl', [{ text: 'fine' }, { messages: ask('no answer') }]);
    expect(() => parseRecipe(sftText, file)).toThrow(`${join(dir, 'sft2.jsonl')}:2: the last message is "user"`);
  });

  it('generate --hf --messages: rendered like the template, with a probe intervention on the frozen model; a bad messages value is a clear error', () => {
    // A probe that always fires (bias 10) on the fixture's frozen copy: every sampled token is followed by the insert.
    const dir = tempDir('bonsai-hf-chat-');
    const frozen = loadHfModel(QWEN3).frozenCopy();
    const probe = new Probe(
      { name: 'p', hook: 'blocks.0.hook_resid_post', level: 'token', kind: { kind: 'logistic', l2: 0 }, d: 32, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
      { mu: tf.zeros([32]), sigma: tf.ones([32]), w: tf.zeros([32]), b: tf.scalar(10) },
    );
    saveProbe(join(dir, 'probe'), probe);
    probe.dispose();
    frozen.dispose();
    const r = bonsai(['generate', '--hf', QWEN3, '--messages', JSON.stringify(ask('the cat?')), '--probe', join(dir, 'probe'), '--insert', ' x', '--max-new-tokens', '4', '--temperature', '0', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout.trim()) as { prompt: string }).prompt).toBe(RENDERED);
    expect(Number(/interventions: (\d+)/.exec(r.stderr)?.[1])).toBeGreaterThan(0);
    const bad = bonsai(['generate', '--hf', QWEN3, '--messages', '[{"role":"user"}]', '--backend', 'cpu']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--messages #1: messages\[0\]\.content must be a string/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
    expect(bad.stdout).toBe('');
  });
});
