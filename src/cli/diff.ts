import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.ts';
import { diffModels, diffReport, formatDiffSummary, lensDirections, loadModelAt, parsePositions, readLensSequences, writeDiffReport, type LoadedModel } from '../diff/index.ts';
import { BonsaiError } from '../errors.ts';
import { saveDirections } from '../gradients/directions-file.ts';
import { probeExamples } from '../probes/recipe.ts';
import { intFlag, parse, usage, type Command } from './args.ts';

const HELP = usage('bonsai diff A B [options]', 'What changed from model A to model B (same architecture and vocabulary): weights, activations, probes.', [
  ['A, B', "bonsai checkpoints, runs' out_dirs (newest checkpoint) or Hugging Face GPT-2 folders"],
  ['--data FILE', 'text for the activation-difference lens (.jsonl: text or prompt+completion; else one line per sequence)'],
  ['--positions LIST', 'token positions the lens averages over, e.g. 0-4 or 4 (default 0-4)'],
  ['--directions DIR', "write each layer's lens difference there as a `bonsai directions` file (steer / ablate)"],
  ['--probe DIR', 'a saved probe to score on both models (repeatable); read on both whatever model it was trained on'],
  ['--probe-data FILE', 'labelled JSONL {prompt, completion, label} for the probes: one for all, or one per --probe'],
  ['--top N', 'tokens per lens side and movers in the summary (default 5; the JSON lists 10 tokens)'],
  ['--json OUT', 'write the report (format bonsai.diff/1) to OUT'],
  ['--backend NAME', 'auto | tensorflow-gpu | tensorflow | wasm | cpu (default auto)'],
]);

/** `bonsai diff A B`: the terminal summary, and the JSON report with --json. */
export const diffCommand: Command = async (argv) => {
  const { values: v, positionals } = parse('diff', argv, {
    data: { type: 'string' }, positions: { type: 'string' }, directions: { type: 'string' },
    probe: { type: 'string', multiple: true }, 'probe-data': { type: 'string', multiple: true },
    top: { type: 'string' }, json: { type: 'string' }, backend: { type: 'string' },
  });
  if (v.help) return (process.stdout.write(HELP), 0);
  if (positionals.length !== 2) return (process.stderr.write(`bonsai diff: expected two models, A and B (got ${positionals.length})\n\n${HELP}`), 2);
  const probes = v.probe ?? [];
  const probeData = v['probe-data'] ?? [];
  if (probes.length && !(probeData.length === 1 || probeData.length === probes.length)) {
    throw new BonsaiError(`--probe-data: give one file for all probes or one per --probe (${probes.length} probes, ${probeData.length} files)`);
  }
  if (probeData.length && !probes.length) throw new BonsaiError('--probe-data needs --probe DIR');
  if (v.directions && !v.data) throw new BonsaiError('--directions needs --data (the lens writes them)');
  const positions = v.positions ? parsePositions(v.positions) : undefined;
  await initBackend((v.backend ?? 'auto') as 'auto');
  const opened: LoadedModel[] = [];
  try {
    const a = loadModelAt(positionals[0]!);
    opened.push(a);
    const b = loadModelAt(positionals[1]!);
    opened.push(b);
    const r = diffModels(a, b, {
      sequences: v.data ? readLensSequences(v.data, b.tokenizer) : undefined,
      positions,
      probes: probes.map((dir, i) => {
        const meta = readProbeLevel(dir);
        return { dir, examples: probeExamples(probeData[probeData.length === 1 ? 0 : i]!, b.tokenizer, meta) };
      }),
    });
    let directions: string[] | undefined;
    if (v.directions) {
      mkdirSync(v.directions, { recursive: true });
      directions = r.lens.filter((l) => l.norm > 0).map((l) => {
        const file = join(v.directions!, `lens-layer${l.layer}.json`);
        saveDirections(file, lensDirections(l, { positions: r.positions.join(','), a: a.path, b: b.path }));
        return file;
      });
    }
    const rep = diffReport(r, a, b, { directions });
    if (v.json) writeDiffReport(v.json, rep);
    process.stdout.write(formatDiffSummary(rep, intFlag('--top', v.top) ?? 5));
    if (v.json) process.stdout.write(`\nwrote ${v.json}\n`);
    return 0;
  } finally {
    for (const m of opened) m.model.dispose();
    tf.disposeVariables();
  }
};

/** The probe's level (token or sequence) decides how its labelled data is read. */
function readProbeLevel(dir: string): 'token' | 'sequence' {
  const meta = readJson(join(dir, 'probe.json')) as { level?: string };
  if (meta.level !== 'token' && meta.level !== 'sequence') throw new BonsaiError(`${join(dir, 'probe.json')}: "level" must be token or sequence, got ${JSON.stringify(meta.level)}`);
  return meta.level;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BonsaiError(`cannot read ${path}: ${(e as Error).message}`);
  }
}
