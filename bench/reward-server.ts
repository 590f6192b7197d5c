/**
 * Load bench for `bonsai serve-reward`: N concurrent clients on loopback for a fixed time
 * against the real command (a subprocess), then the bare frozen forward of the same batches
 * in this process. `node bin/run-ts.js bench/reward-server.ts [--clients 8 --seconds 20
 * --seqs 4 --batch-size 32 --max-wait-ms 5 --d-model 64 --layers 2 --backend auto --threads 1]`.
 * Prints throughput (sequences/s), p50/p99 latency, errors (must be 0) and the server's
 * overhead over the bare frozen forward (goal ≤ 10%). The clients share the machine's cores
 * with the server, so on a small machine part of the "overhead" is the clients' own work.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendPreference } from '../src/backend/index.ts';
import { modelConfig } from '../src/models/index.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import { saveProbe } from '../src/probes/io.ts';
import { Probe } from '../src/probes/probe.ts';
import { loadRecipe } from '../src/recipe/index.ts';
import { frozenPass } from '../src/rewards/frozen.ts';
import { RewardScorer } from '../src/server/scorer.ts';
import { encodeText, rolloutBatchOf, type ScoreText } from '../src/server/texts.ts';
import { saveCheckpoint } from '../src/models/checkpoint.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : d);
const CLIENTS = Number(flag('--clients', '8'));
const SECONDS = Number(flag('--seconds', '20'));
const SEQS = Number(flag('--seqs', '4'));
const BATCH = flag('--batch-size', '32');
const WAIT = flag('--max-wait-ms', '5');
const BACKEND = flag('--backend', 'auto') as BackendPreference;
const D = Number(flag('--d-model', '64'));
const L = Number(flag('--layers', '2'));
const N_CTX = 32;
// Both sides on the same wasm thread count (the default follows the machine's load, which the clients change).
process.env.BONSAI_WASM_THREADS ??= flag('--threads', '1');

/** The hallucination recipes' model and rewards (random weights, a random probe): what RL asks of the server. */
function writeRecipe(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bonsai-bench-serve-'));
  const model = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: D, nLayers: L, nHeads: 4, nCtx: N_CTX }), 1);
  saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
  const frozen = model.frozenCopy();
  const hook = `blocks.${L - 1}.hook_resid_post`;
  const probe = new Probe({ name: 'p', hook, level: 'token', kind: { kind: 'logistic', l2: 0 }, d: D, threshold: 0.5, metrics: {} as never, fingerprint: frozen.fingerprint() },
    { mu: tf.zeros([D]), sigma: tf.ones([D]), w: tf.randomNormal([D], 0, 1, 'float32', 1), b: tf.scalar(0) });
  saveProbe(join(dir, 'probe'), probe);
  [model, frozen, probe].forEach((x) => x.dispose());
  writeFileSync(join(dir, 'rl.jsonl'), '{"prompt":"Q: x?\\nA:"}\n');
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, `run: { name: bench-serve, seed: 0, out_dir: ${join(dir, 'out')} }
backend: ${BACKEND}
model: { tokenizer: byte, init: { checkpoint: ${join(dir, 'ck')} } }
data: { train: { format: jsonl, path: ${join(dir, 'rl.jsonl')} } }
trainer: { kind: rl, steps: 1, batch_size: 1, optimizer: { kind: adamw, lr: 1.0e-4 } }
probes: [ { name: halluc, hook: ${hook}, level: token, checkpoint: ${join(dir, 'probe')} } ]
rewards:
  - { name: probe, kind: probe, probe: halluc, aggregate: max, sign: -1, weight: 1.0 }
  - { name: correct, kind: exact_match, stop: "\\n", weight: 0.5 }
  - { name: format, kind: regex, pattern: "^ [a-z]+\\n", weight: 1.0 }
tracking: { uri: none }
`);
  return file;
}

const COLOURS = ['red', 'blue', 'green', 'unknown', 'teal', 'amber'];
/** Sequence i: a ~16-token prompt and a short answer, as the hallucination world's rollouts are. */
const textOf = (i: number): ScoreText => ({ prompt: `Q: colour of Ent${i % 97}?\nA:`, completion: ` ${COLOURS[i % COLOURS.length]}\n`, answer: COLOURS[(i * 7) % COLOURS.length] });

function startServer(file: string): Promise<{ url: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'bonsai.js'), 'serve-reward', file, '--port', '0', '--batch-size', BATCH, '--max-wait-ms', WAIT, '--max-batch', String(Math.max(SEQS, 1))], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
    });
    child.once('exit', (code) => reject(new Error(`serve-reward exited ${code}:\n${err}`)));
  });
}

async function health(url: string): Promise<{ passes: number; sequences: number; batch_sizes: Record<string, number>; busy_ms: number }> {
  return (await fetch(`${url}/health`)).json() as never;
}

/** One client: requests back to back until `until`; latencies in ms. */
async function client(url: string, id: number, until: number, lat: number[], errors: string[]): Promise<number> {
  let seqs = 0;
  for (let k = 0; performance.now() < until; k++) {
    const texts = Array.from({ length: SEQS }, (_, j) => textOf(id * 1000 + k * SEQS + j));
    const body = JSON.stringify({ query: texts.map((t) => t.prompt + t.completion), prompts: texts.map((t) => t.prompt), labels: texts.map((t) => t.answer) });
    const t0 = performance.now();
    try {
      const res = await fetch(`${url}/get_reward`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { rewards?: number[]; error?: string };
      if (res.status !== 200 || json.rewards?.length !== SEQS) errors.push(`${res.status} ${json.error ?? ''}`);
      else seqs += SEQS;
    } catch (e) {
      errors.push((e as Error).message);
    }
    lat.push(performance.now() - t0);
  }
  return seqs;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

const report = await initBackend(BACKEND);
const file = writeRecipe();
const srv = await startServer(file);
await Promise.all(Array.from({ length: 4 }, (_, i) => client(srv.url, 900 + i, performance.now() + 300, [], []))); // warm-up
const h0 = await health(srv.url);
const lat: number[] = [];
const errors: string[] = [];
const t0 = performance.now();
const served = (await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(srv.url, i, t0 + SECONDS * 1000, lat, errors)))).reduce((a, b) => a + b, 0);
const wall = (performance.now() - t0) / 1000;
const h1 = await health(srv.url);
const exit = await srv.stop();

// The same batches, bare: this process, the same backend and weights, no HTTP.
const scorer = await RewardScorer.fromRecipe(loadRecipe(file), file);
const sizes = Object.entries(h1.batch_sizes).map(([k, n]) => [Number(k), n - (h0.batch_sizes[k] ?? 0)] as const).filter(([, n]) => n > 0);
let forwardS = 0;
let scoreS = 0;
for (const [k, n] of sizes) {
  const enc = Array.from({ length: k }, (_, i) => encodeText(scorer.tokenizer, textOf(i)));
  const reps = Math.min(n, 50);
  const time = async (f: () => unknown) => {
    await f(); // warm-up for this shape
    const s = performance.now();
    for (let r = 0; r < reps; r++) await f();
    return (performance.now() - s) / 1000 / reps;
  };
  forwardS += n * (await time(() => {
    const p = frozenPass(scorer.frozen, rolloutBatchOf(enc), scorer.rewards);
    p.refLogprobs.dataSync(); // wait for the result, as the server's read of the scores does
    p.refLogprobs.dispose();
    p.cache.dispose();
  }));
  scoreS += n * (await time(() => scorer.score(enc)));
}
scorer.dispose();

const passes = h1.passes - h0.passes;
const seqs = h1.sequences - h0.sequences;
console.log(`${describeBackend(report)}; model d=${D} L=${L} n_ctx=${N_CTX}; ${CLIENTS} clients × ${SEQS} sequences/request for ${SECONDS} s; --batch-size ${BATCH} --max-wait-ms ${WAIT}`);
console.log(`| measure | value |\n|---|---|`);
console.log(`| throughput | ${(served / wall).toFixed(1)} sequences/s (${(lat.length / wall).toFixed(1)} requests/s) |`);
console.log(`| latency p50 / p99 | ${pct(lat, 50).toFixed(1)} / ${pct(lat, 99).toFixed(1)} ms |`);
console.log(`| errors | ${errors.length}${errors.length ? ` (first: ${errors[0]})` : ''} |`);
console.log(`| frozen passes | ${passes} (mean ${(seqs / Math.max(passes, 1)).toFixed(1)} sequences/pass) |`);
console.log(`| server busy in passes | ${((h1.busy_ms - h0.busy_ms) / 1000).toFixed(2)} s of ${wall.toFixed(2)} s |`);
console.log(`| bare frozen forward, same batches | ${forwardS.toFixed(2)} s (with rewards: ${scoreS.toFixed(2)} s) |`);
console.log(`| server overhead over bare forward | ${((wall / forwardS - 1) * 100).toFixed(1)}% (over forward + rewards: ${((wall / scoreS - 1) * 100).toFixed(1)}%; goal ≤ 10%) |`);
if (exit !== 0) console.log(`server exited ${exit} on SIGTERM (expected 0)`);
process.exitCode = errors.length || exit !== 0 ? 1 : 0;
