// The two detections, each done by the probe (one frozen forward + the probe head) and by the
// judge (a forward of the judge per query, read from its next-token logits): the eval items,
// each side's scores, accuracy and AUROC, and FLOPs per sequence counted from the shapes.
import { readFileSync } from 'node:fs';
import { evalOnlyProbeExamples, worldFromJson } from '../../src/data/tasks/hallucination-eval.ts';
import { readPiiRecords, tokenLabels } from '../../src/data/tasks/pii.ts';
import { addCounts, f1Of, type F1Counts } from '../../src/data/tasks/pii-score.ts';
import { forwardFlops, probeHeadFlops } from '../../src/models/flops.ts';
import type { ModelConfig } from '../../src/models/index.ts';
import type { Tokenizer } from '../../src/models/tokenizer.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { judgeScores, labelId, tokenQueries, type JudgeFormat } from '../../src/probes/judge.ts';
import { auroc } from '../../src/probes/metrics.ts';
import type { Probe } from '../../src/probes/probe.ts';
import { scoreTokens } from '../../src/probes/token-scores.ts';

/** One text to label: its tokens, where the scored part starts, and the truth per scored unit. */
export interface Item { ids: number[]; from: number; labels: number[] }

/** Hallucination eval items (src/data/tasks/hallucination-eval.ts's eval-only probe examples): one label per answer. */
export function hallucinationItems(tok: Tokenizer): Item[] {
  const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
  return evalOnlyProbeExamples(world, tok).map(({ ids, positions, label }) => ({ ids, from: positions[0]!, labels: [label] }));
}

/** PII eval items (data/pii/eval-id.jsonl or eval-ood.jsonl): one label per token. */
export const piiItems = (tok: Tokenizer, file: string): Item[] => readPiiRecords(file).map((r) => ({ ...tokenLabels(tok, r), from: 0 }));

/** Probe decision scores: per answer the max over its tokens (the RL reward's aggregate), or per token. */
export function probeSide(frozen: CausalLM, probe: Probe, items: Item[], level: 'sequence' | 'token'): number[][] {
  const s = scoreTokens(frozen, probe, items.map((i) => i.ids));
  return items.map((it, k) => (level === 'sequence' ? [Math.max(...s[k]!.subarray(it.from))] : Array.from(s[k]!)));
}

/** The judge's queries: the text and the mark per answer, or one per token. */
export function judgeQueries(tok: Tokenizer, f: JudgeFormat, items: Item[], level: 'sequence' | 'token'): number[][][] {
  const mark = tok.encode(f.mark);
  return items.map((it) => (level === 'sequence' ? [[...it.ids, ...mark]] : tokenQueries(it.ids, mark)));
}

/** Judge decision scores (logit yes − logit no), shaped like the items' labels. */
export function judgeSide(judge: CausalLM, tok: Tokenizer, f: JudgeFormat, queries: number[][][]): number[][] {
  const flat = judgeScores(judge, queries.flat(), labelId(tok, f.yes), labelId(tok, f.no));
  let at = 0;
  return queries.map((q) => Array.from(flat.subarray(at, (at += q.length))));
}

/** Accuracy, AUROC and (token level) token/span F1 of scores against the items' labels at `threshold`. */
export function quality(items: Item[], scores: number[][], threshold: number) {
  const y = items.flatMap((i) => i.labels);
  const s = scores.flat();
  const token: F1Counts = { tp: 0, fp: 0, fn: 0 }, span: F1Counts = { tp: 0, fp: 0, fn: 0 };
  items.forEach((it, k) => addCounts(token, span, it.labels, scores[k]!.map((v) => (v >= threshold ? 1 : 0))));
  return { n: y.length, accuracy: y.filter((l, i) => (s[i]! >= threshold ? 1 : 0) === l).length / y.length, auroc: auroc(s, y), f1: f1Of(token).f1, span_f1: f1Of(span).f1 };
}

/**
 * Mean FLOPs per sequence (see src/models/flops.ts for the formula), padding excluded:
 * probe as bonsai runs it (a full forward, logits included, + the head on every token), the
 * probe pass stopped at its hook (no unembedding), the probe head alone (its cost in RL, where
 * the frozen pass is already run for the KL term), the judge as run (logits at every
 * position) and the judge reading only the last position's logits.
 */
export function flopsPerSequence(cfg: ModelConfig, probe: Probe, items: Item[], queries: number[][][]) {
  const hookLayer = Number(/^blocks\.(\d+)\./.exec(probe.meta.hook)?.[1] ?? cfg.nLayers - 1);
  const upToHook = { ...cfg, nLayers: hookLayer + 1 };
  const mean = (f: (i: number) => number) => items.reduce((a, _, i) => a + f(i), 0) / items.length;
  const T = (i: number) => items[i]!.ids.length;
  const head = (i: number) => probeHeadFlops(probe.meta.kind, probe.meta.d, T(i));
  return {
    probe_as_run: mean((i) => forwardFlops(cfg, T(i)) + head(i)),
    probe_stop_at_hook: mean((i) => forwardFlops(upToHook, T(i), 0) + head(i)),
    probe_head_only: mean(head),
    judge_as_run: mean((i) => queries[i]!.reduce((a, q) => a + forwardFlops(cfg, Math.min(q.length, cfg.nCtx)), 0)),
    judge_last_logits: mean((i) => queries[i]!.reduce((a, q) => a + forwardFlops(cfg, Math.min(q.length, cfg.nCtx), 1), 0)),
    tokens_probe: mean(T),
    tokens_judge: mean((i) => queries[i]!.reduce((a, q) => a + Math.min(q.length, cfg.nCtx), 0)),
  };
}
