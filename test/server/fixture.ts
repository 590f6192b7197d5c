/**
 * A tiny RL recipe to serve: a byte-level checkpoint, a probe with random weights (so its
 * scores differ from token to token) trained "on" that checkpoint's fingerprint, and one
 * reward of every built-in text kind. Plus the in-process reference the server must match.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelConfig } from '../../src/models/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { Probe } from '../../src/probes/probe.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { loadRecipeProbes } from '../../src/probes/recipe.ts';
import { loadRecipe, type Recipe } from '../../src/recipe/index.ts';
import { buildRewards } from '../../src/rewards/build.ts';
import { frozenPass, scoreRewards, type RolloutBatch } from '../../src/rewards/index.ts';
import { RewardScorer } from '../../src/server/scorer.ts';
import { startRewardServer, type RewardServer, type ServeOptions } from '../../src/server/server.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { tempDir } from '../helpers/recipes.ts';

export const N_CTX = 32;

/** Writes checkpoint, probe, prompts and recipe into a fresh dir; returns the recipe path. `extraReward` adds one YAML rewards item (given the dir). */
export function writeServeRecipe(extraReward?: (dir: string) => string): string {
  const dir = tempDir('bonsai-serve-');
  const model = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: N_CTX }), 7);
  saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
  const frozen = model.frozenCopy();
  const d = model.config.dModel;
  const probe = new Probe(
    { name: 'p', hook: 'blocks.0.hook_resid_post', level: 'token', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
    { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.randomNormal([d], 0, 1, 'float32', 3), b: tf.scalar(0.1) },
  );
  saveProbe(join(dir, 'probe'), probe);
  [model, frozen, probe].forEach((x) => x.dispose());
  writeFileSync(join(dir, 'rl.jsonl'), `${JSON.stringify({ prompt: 'Q: sky?', completion: ' blue' })}\n`);
  const file = join(dir, 'serve.yaml');
  writeFileSync(file, `
run: { name: serve-test, seed: 0, out_dir: ${join(dir, 'out')} }
backend: cpu
model: { tokenizer: byte, init: { checkpoint: ${join(dir, 'ck')} } }
data: { train: { format: jsonl, path: ${join(dir, 'rl.jsonl')} } }
trainer: { kind: rl, steps: 1, batch_size: 1, optimizer: { kind: adamw, lr: 1.0e-3 } }
probes: [ { name: p, hook: blocks.0.hook_resid_post, level: token, checkpoint: ${join(dir, 'probe')} } ]
rewards:
  - { name: probe, kind: probe, probe: p, aggregate: mean, sign: -1, weight: 1.0 }
  - { name: correct, kind: exact_match, stop: "\\n", weight: 0.5 }
  - { name: format, kind: regex, pattern: "^ [a-z]+", weight: 1.0 }
  - { name: len, kind: length, target: 4, weight: 0.25 }
${extraReward ? `  - ${extraReward(dir)}\n` : ''}tracking: { uri: none }
`);
  return file;
}

export const TEST_LIMITS = { maxBodyBytes: 64 * 1024, maxBatch: 16, maxSeqLen: N_CTX, timeoutMs: 5_000 };

/** A scorer + server on a free loopback port. */
export async function serve(file: string, o: Partial<ServeOptions> = {}): Promise<{ scorer: RewardScorer; srv: RewardServer; close(): Promise<void> }> {
  const scorer = await RewardScorer.fromRecipe(loadRecipe(file));
  const srv = await startRewardServer(scorer, { host: '127.0.0.1', port: 0, batchSize: 32, maxWaitMs: 2, ...TEST_LIMITS, log: () => {}, ...o });
  return { scorer, srv, close: async () => (await srv.close(), scorer.dispose()) };
}

export interface Text {
  prompt: string;
  completion: string;
  answer?: string;
}

/**
 * The in-process reward for the same texts, built without src/server: the recipe's model,
 * frozen copy, probes and rewards as the RL trainer builds them, and the rollout layout
 * written out by hand (prompt then completion tokens, right-padded; an empty prompt is EOS).
 */
export async function inProcessRewards(recipe: Recipe, texts: Text[]): Promise<{ total: number[]; byName: Record<string, number[]> }> {
  const tok = createTokenizer(recipe.model.tokenizer);
  const model = buildModel(recipe, tok);
  const frozen = model.frozenCopy();
  model.dispose();
  const probes = loadRecipeProbes(recipe, frozen);
  const rewards = await buildRewards(recipe, probes);
  const rows = texts.map((t) => {
    const p = tok.encode(t.prompt);
    return { p: p.length ? p : [tok.eosId], c: tok.encode(t.completion) };
  });
  const T = Math.max(...rows.map((r) => r.p.length + r.c.length));
  const ids = new Int32Array(rows.length * T);
  rows.forEach((r, i) => ids.set([...r.p, ...r.c], i * T));
  const batch: RolloutBatch = {
    ids, R: rows.length, T, promptLens: rows.map((r) => r.p.length), completions: rows.map((r) => r.c),
    texts: texts.map((t) => t.completion), prompts: texts.map((t) => t.prompt), answers: texts.map((t) => t.answer), mask: new Float32Array(rows.length * (T - 1)),
  };
  const pass = frozenPass(frozen, batch, rewards);
  const s = await scoreRewards(rewards, batch, { frozen: pass });
  tf.dispose([pass.refLogprobs]);
  pass.cache.dispose();
  rewards.forEach((r) => r.dispose?.());
  probes.forEach((p) => p.dispose());
  frozen.dispose();
  // JSON has no −0 (a probe reward on an empty completion is −1 · 0): compare as the wire carries it.
  const plain = (v: Float32Array) => Array.from(v, (x) => x + 0);
  return { total: plain(s.total), byName: Object.fromEntries(Object.entries(s.byName).map(([k, v]) => [k, plain(v)])) };
}

/** POSTs JSON (or a raw body) and returns status, headers and the parsed answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** GETs and parses a JSON answer. */
export async function getJson(url: string, headers: Record<string, string> = {}): Promise<any> {
  return (await fetch(url, { headers })).json();
}
