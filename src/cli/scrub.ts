import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { initBackend } from '../backend/index.ts';
import { tokenCharRanges } from '../data/tasks/pii.ts';
import { runs } from '../data/tasks/pii-score.ts';
import { BonsaiError } from '../errors.ts';
import { createTokenizer, type Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { modelFromValues } from '../models/registry.ts';
import { loadProbe } from '../probes/io.ts';
import type { Probe } from '../probes/probe.ts';
import { scoreTokens } from '../probes/token-scores.ts';
import { latestCheckpoint, loadCheckpoint } from '../models/checkpoint.ts';
import { parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';
import { inputPrefix } from '../models/input-ids.ts';

const HELP = usage('bonsai scrub --checkpoint DIR --probe DIR [FILE]', 'Mask the tokens where a token-level probe fires (read on the frozen model); print the masked text.', [
  ['--checkpoint DIR', "the model the probe was trained on: a checkpoint, or a run's out_dir (its newest)"],
  ['--probe DIR', 'a saved token-level probe (bonsai probe train), e.g. runs/pii/probe/probes/pii'],
  ['FILE', 'text to scrub, each line read on its own (default: stdin)'],
  ['--mask TEXT', 'what replaces each run of flagged tokens (default [PII])'],
  ['--threshold P', "fire at this score instead of the probe's own threshold"],
  ['--backend NAME', 'auto | tensorflow-gpu | tensorflow | wasm | cpu (default auto)'],
  THREADS_HELP,
]);

/**
 * Masks `text` where `probe` fires: each maximal run of flagged tokens becomes `mask`.
 * Lines are read separately (the probe was trained on single texts); newlines are kept.
 */
export function scrubText(frozen: CausalLM, probe: Probe, tok: Tokenizer, text: string, opts: { mask?: string; threshold?: number } = {}): { text: string; masked: number } {
  const threshold = opts.threshold ?? probe.meta.threshold;
  const lines = text.split('\n');
  const ids = lines.map((l) => tok.encode(l));
  // The model reads each line as its input (its BOS first where the tokenizer adds one); the prefix's scores are dropped.
  const prefix = inputPrefix(tok);
  const scores = scoreTokens(frozen, probe, ids.map((s) => [...prefix, ...s])).map((s) => s.subarray(prefix.length));
  let masked = 0;
  const out = lines.map((line, i) => {
    const ranges = tokenCharRanges(tok, line, ids[i]);
    const flagged = Array.from(scores[i]!, (s) => (s >= threshold ? 1 : 0));
    masked += flagged.reduce<number>((a, b) => a + b, 0);
    let res = '';
    let at = 0;
    for (const [a, b] of runs(flagged)) {
      const [from, to] = [ranges[a]![0], ranges[b - 1]![1]];
      res += line.slice(at, from) + (opts.mask ?? '[PII]');
      at = Math.max(at, to);
    }
    return res + line.slice(at);
  });
  return { text: out.join('\n'), masked };
}

export const scrubCommand: Command = async (argv) => {
  const { values, positionals } = parse('scrub', argv, {
    checkpoint: { type: 'string' }, probe: { type: 'string' }, mask: { type: 'string' }, threshold: { type: 'string' }, backend: { type: 'string' }, ...threadsOption,
  });
  if (values.help) return (process.stdout.write(HELP), 0);
  if (!values.checkpoint || !values.probe || positionals.length > 1) return (process.stderr.write(`bonsai scrub: --checkpoint and --probe are required, and at most one FILE\n\n${HELP}`), 2);
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new BonsaiError(`--threshold must be a number in [0, 1], got "${values.threshold}"`);
  const backend = values.backend ?? 'auto';
  if (!['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(backend)) throw new BonsaiError(`--backend: unknown backend "${backend}"`);
  const file = positionals[0];
  let text: string;
  try {
    text = readFileSync(file ?? 0, 'utf8');
  } catch (e) {
    throw new BonsaiError(`cannot read ${file ?? 'stdin'}: ${(e as Error).message}`);
  }
  await initBackend(backend as 'auto', { threads: threadsFlag(values.threads) });
  const ckDir = checkpointDir(values.checkpoint);
  const ck = loadCheckpoint(ckDir);
  const model = modelFromValues(ck.config, ck.weights);
  const frozen = model.frozenCopy();
  model.dispose();
  const probe = loadProbe(values.probe, frozen);
  try {
    const r = scrubText(frozen, probe, createTokenizer(ck.tokenizer, ckDir), text, { mask: values.mask, threshold });
    process.stdout.write(r.text);
    process.stderr.write(`scrub: ${r.masked} tokens masked\n`);
    return 0;
  } finally {
    probe.dispose();
    frozen.dispose();
    tf.disposeVariables();
  }
};

/** A checkpoint dir itself, or a run's out_dir holding step-N checkpoints. */
function checkpointDir(path: string): string {
  try {
    return latestCheckpoint(path) ?? path;
  } catch {
    return path;
  }
}
