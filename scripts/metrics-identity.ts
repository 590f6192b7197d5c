/**
 * Behaviour check for refactors: trains the shipped recipes that exercise every trainer path
 * through the `bonsai` command, and records every logged metric (name, step, value), every
 * logged param, and a hash of each run's final weights. Run it before a change and after, then
 * compare: every metric and weight of the first record must be bit-identical in the second.
 *
 *   node bin/run-ts.js scripts/metrics-identity.ts record before.json [--only NAME,NAME]
 *   node bin/run-ts.js scripts/metrics-identity.ts compare before.json after.json
 *
 * It reads only the command line and MLflow's file layout, never src/, so it runs unchanged on
 * both sides of a refactor. Metrics that measure the machine (tokens/s, seconds) are left out.
 * quickstart is cut to 60 steps (eval and checkpoint every 30) to keep the check short.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

interface Case {
  name: string;
  recipe: string | ((dir: string) => string);
  set?: string[];
}

/** A tiny RL run that freezes a block's attention and clips: rollouts, rewards, KL, freeze masks, clipping. */
function tinyRl(dir: string): string {
  const prompts = join(dir, 'prompts.jsonl');
  const rows = ['a:', 'b:', 'c:', 'd:', 'e:'].map((p, i) => JSON.stringify({ prompt: p, completion: ` ${'xyz'[i % 3]}` }));
  writeFileSync(prompts, rows.join('\n') + '\n');
  const file = join(dir, 'tiny-rl.yaml');
  writeFileSync(file, `
run: { name: tiny-rl, seed: 5 }
backend: auto
model:
  tokenizer: byte
  init: { config: { d_model: 16, n_layers: 2, n_heads: 2, n_ctx: 16 } }
data:
  train: { format: jsonl, path: ${prompts} }
trainer:
  kind: rl
  steps: 6
  batch_size: 2
  group_size: 4
  max_new_tokens: 4
  kl_beta: 0.05
  inner_epochs: 2
  optimizer: { kind: adamw, lr: 3.0e-2, weight_decay: 0.1 }
  schedule: { kind: cosine, warmup_steps: 2 }
  log_every: 1
rewards:
  - { name: printable, kind: regex, pattern: "^[ -~]", weight: 1.0 }
  - { name: len, kind: length, target: 2, weight: 0.5 }
  - { name: correct, kind: exact_match, weight: 0.5 }
gradients: [ { kind: clip, max_norm: 1.0 } ]
freeze: [ "blocks.0.attn.*" ]
checkpoint: { every: 3, keep: 2 }
`);
  return file;
}

const CASES: Case[] = [
  { name: 'quickstart', recipe: 'recipes/quickstart.yaml', set: ['trainer.steps=60', 'trainer.eval.every=30', 'checkpoint.every=30', 'trainer.log_every=10'] },
  { name: 'forgetting-attribution', recipe: 'recipes/forgetting-attribution.yaml' },
  { name: 'side-project', recipe: 'recipes/side-project.yaml' },
  { name: 'spurious-ablate', recipe: 'recipes/spurious-ablate.yaml' },
  { name: 'tiny-rl-freeze-clip', recipe: tinyRl },
];

/** Machine-dependent metrics: speed, time, system load. */
const VOLATILE = /^system\/|tokens_per_sec|seconds|_ms$|time|memory|heap/;

interface RunRecord {
  metrics: Record<string, Array<[number, number]>>;
  params: Record<string, string>;
  weights: string;
  stdoutTail: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function readRun(mlruns: string, outDir: string, tmp: string): Omit<RunRecord, 'stdoutTail'> {
  const exp = readdirSync(mlruns).filter((e) => /^\d+$/.test(e) && e !== '0');
  const runs = exp.flatMap((e) => readdirSync(join(mlruns, e)).filter((r) => statSync(join(mlruns, e, r)).isDirectory()).map((r) => join(mlruns, e, r)));
  if (runs.length !== 1) throw new Error(`expected one run in ${mlruns}, found ${runs.length}`);
  const run = runs[0]!;
  const metrics: RunRecord['metrics'] = {};
  for (const f of walk(join(run, 'metrics')).sort()) {
    const name = relative(join(run, 'metrics'), f);
    if (VOLATILE.test(name)) continue;
    metrics[name] = readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
      const [, value, step] = l.split(' ');
      return [Number(step), Number(value)] as [number, number];
    });
  }
  const params: RunRecord['params'] = {};
  if (existsSync(join(run, 'params'))) {
    for (const f of walk(join(run, 'params')).sort()) params[relative(join(run, 'params'), f)] = readFileSync(f, 'utf8').split(tmp).join('$TMP');
  }
  const steps = existsSync(outDir) ? readdirSync(outDir).filter((d) => d.startsWith('step-')).sort() : [];
  const last = steps.at(-1);
  const weightsFile = last ? join(outDir, last, 'model.safetensors') : undefined;
  const weights = weightsFile && existsSync(weightsFile) ? `${last}:${createHash('sha256').update(readFileSync(weightsFile)).digest('hex')}` : 'none';
  return { metrics, params, weights };
}

function record(file: string, only?: string[]): void {
  const result: Record<string, RunRecord> = {};
  for (const c of CASES) {
    if (only && !only.includes(c.name)) continue;
    const tmp = mkdtempSync(join(tmpdir(), `bonsai-identity-${c.name}-`));
    try {
      const recipe = typeof c.recipe === 'string' ? c.recipe : c.recipe(tmp);
      const args = ['bin/bonsai.js', 'train', recipe, '--set', `run.out_dir=${join(tmp, 'out')}`, '--set', `tracking.uri=${join(tmp, 'mlruns')}`];
      for (const s of c.set ?? []) args.push('--set', s);
      const t0 = Date.now();
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`${c.name}: bonsai train exited ${r.status}\n${r.stdout}\n${r.stderr}`);
      const stdoutTail = r.stdout.split(tmp).join('$TMP').split('\n').filter((l) => !/ in [\d.]+ s on |run [0-9a-f]{32}|--run [0-9a-f]+/.test(l)).slice(-12).join('\n');
      result[c.name] = { ...readRun(join(tmp, 'mlruns'), join(tmp, 'out'), tmp), stdoutTail };
      const n = Object.keys(result[c.name]!.metrics).length;
      console.log(`${c.name}: ${n} metrics, weights ${result[c.name]!.weights.slice(0, 30)}… (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
  console.log(`wrote ${file}`);
}

function compare(beforeFile: string, afterFile: string): number {
  const before = JSON.parse(readFileSync(beforeFile, 'utf8')) as Record<string, RunRecord>;
  const after = JSON.parse(readFileSync(afterFile, 'utf8')) as Record<string, RunRecord>;
  let bad = 0;
  for (const [name, b] of Object.entries(before)) {
    const a = after[name];
    if (!a) {
      console.log(`${name}: missing from ${afterFile}`);
      bad++;
      continue;
    }
    const diffs: string[] = [];
    let points = 0;
    for (const [metric, series] of Object.entries(b.metrics)) {
      if (VOLATILE.test(metric)) continue;
      const s = a.metrics[metric];
      if (!s) diffs.push(`metric ${metric} no longer logged`);
      else if (JSON.stringify(s) !== JSON.stringify(series)) diffs.push(`metric ${metric} differs: ${JSON.stringify(series.slice(0, 3))}… vs ${JSON.stringify(s.slice(0, 3))}…`);
      points += series.length;
    }
    for (const [param, v] of Object.entries(b.params)) if (a.params[param] !== v) diffs.push(`param ${param}: ${JSON.stringify(v)} vs ${JSON.stringify(a.params[param])}`);
    if (a.weights !== b.weights) diffs.push(`final weights differ: ${b.weights} vs ${a.weights}`);
    const added = Object.keys(a.metrics).filter((m) => !(m in b.metrics) && !VOLATILE.test(m));
    const addedParams = Object.keys(a.params).filter((p) => !(p in b.params));
    console.log(`${name}: ${diffs.length ? 'DIFFERS' : 'identical'} (${Object.keys(b.metrics).length} metrics, ${points} points, weights ${b.weights === 'none' ? 'none' : 'hashed'})` +
      (added.length ? `; new metrics: ${added.join(', ')}` : '') + (addedParams.length ? `; new params: ${addedParams.join(', ')}` : ''));
    for (const d of diffs) console.log(`  ${d}`);
    if (diffs.length) bad++;
  }
  return bad ? 1 : 0;
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'record' && rest[0]) {
  const i = rest.indexOf('--only');
  record(rest[0], i >= 0 ? rest[i + 1]!.split(',') : undefined);
} else if (cmd === 'compare' && rest[0] && rest[1]) {
  process.exitCode = compare(rest[0], rest[1]);
} else {
  console.error('usage: node bin/run-ts.js scripts/metrics-identity.ts record OUT.json [--only NAME,...] | compare BEFORE.json AFTER.json');
  process.exitCode = 2;
}
