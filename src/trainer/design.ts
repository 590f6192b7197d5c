import * as tf from '@tensorflow/tfjs';
import { evalBatches, loadDataset } from '../data/index.ts';
import { freezeKindOf, type freezeKinds } from '../gradients/freeze-kinds.ts';
import { interventionBuilders } from '../gradients/intervention-build.ts';
import { build, type Builders } from '../registry/kinds.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import { attributionFilter, attributionScores, selectTopPercent } from '../gradients/attribution.ts';
import { Freezer } from '../gradients/freeze.ts';
import { buildFreezeGuard, describeGuardEvent, FreezeGuard, type GuardSpec } from '../gradients/freeze-guard.ts';
import { buildModel } from '../models/init-build.ts';
import { freezeSpecHash, loadFreezeSelection, saveFreezeSelection } from './freeze-selection.ts';
import { selectGlob, selectHeads, selectNeurons, unionSelections, type Selection } from '../gradients/select.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { BonsaiError } from '../errors.ts';
import type { Tracker } from '../tracking/index.ts';
import { lmLoss } from './loss.ts';
import type { AdamW } from './optimizer.ts';
import { Rng } from '../util/rng.ts';
import { adaptersOf, trainableParams } from '../lora/attach.ts';

/**
 * The recipe's `freeze` list as one Freezer over the model's current weights, or
 * undefined when nothing is frozen. Each selector must select something: a selector that
 * matches nothing is an error naming it, never a silent no-op.
 */
export function buildFreezer(
  recipe: Recipe,
  model: CausalLM,
  tokenizer: Tokenizer,
  seqLen: number,
  o: { resume?: boolean; onLog?: (line: string) => void } = {},
): Freezer | undefined {
  if (!recipe.freeze.length) return undefined;
  const spec = freezeSpecHash(recipe);
  // A resumed run keeps the entries it started with (attribution on the resumed weights would pick others).
  const stored = o.resume ? loadFreezeSelection(recipe.run.out_dir, spec) : undefined;
  const guards: GuardSpec[] = [];
  const save = (sel: Selection, percent?: number) => saveFreezeSelection(recipe.run.out_dir, sel, spec, percent === undefined ? {} : { 'bonsai.guard_percent': String(percent) });
  let freezer: Freezer;
  if (stored && 'sel' in stored) {
    o.onLog?.('freeze: the selection this run started with, read back from out_dir');
    freezer = new Freezer(trainableParams(model), stored.sel);
    if (recipe.freeze.some((f) => typeof f !== 'string' && 'attribution' in f && f.attribution.guard)) {
      // The guard goes on from the run's starting weights: its scores, reference accuracy and the values it restores.
      const startModel = buildModel(recipe, tokenizer);
      try {
        selectFreeze(recipe, startModel, tokenizer, seqLen, guards);
        const start = startModel.valuesSync();
        const reference = buildFreezeGuard(startModel, tokenizer, seqLen, guards[0]!, start).reference;
        freezer.restore(trainableParams(model), start);
        freezer.guard = buildFreezeGuard(model, tokenizer, seqLen, guards[0]!, start, { reference, percent: Number(stored.meta['bonsai.guard_percent'] ?? guards[0]!.percent) });
      } finally {
        startModel.dispose();
      }
    }
  } else {
    if (o.resume) o.onLog?.(`freeze: ${stored ? 'the freeze section changed since the run started' : 'no saved selection (a run from before selections were saved)'}; selecting again on the resumed weights`);
    const sel = selectFreeze(recipe, model, tokenizer, seqLen, guards);
    save(sel, guards[0]?.percent);
    freezer = new Freezer(trainableParams(model), sel);
    if (guards[0]) freezer.guard = buildFreezeGuard(model, tokenizer, seqLen, guards[0], new Map([...trainableParams(model)].map(([p, v]) => [p, Float32Array.from(v.dataSync() as Float32Array)])));
  }
  const guard = freezer.guard instanceof FreezeGuard ? freezer.guard : undefined;
  if (guard) {
    o.onLog?.(`freeze guard: held-out accuracy ${(100 * guard.reference).toFixed(1)}% at the start; more is frozen whenever it falls under ${(100 * guard.floor).toFixed(1)}%`);
    guard.onGrow = (e, f) => (o.onLog?.(describeGuardEvent(e)), save(f.frozenSelection(), e.percent));
  }
  return freezer;
}

/**
 * The union of the recipe's freeze selectors over the model's current weights (exported for
 * diagnostics); an attribution selector with a guard adds its scores to `guards`.
 */
export function selectFreeze(recipe: Recipe, model: CausalLM, tokenizer: Tokenizer, seqLen: number, guards: GuardSpec[] = []): Selection {
  const parts: Selection[] = recipe.freeze.map((s, i) => build(freezeBuilders, freezeKindOf(s), s, { recipe, model, tokenizer, seqLen, where: `freeze[${i}]`, guards }));
  return unionSelections(parts);
}

/** The base weights, for selectors that slice them (heads, neurons); under LoRA the base cannot train, so these selectors mean nothing there. */
function baseOnly(model: CausalLM, where: string): Map<string, tf.Variable> {
  if (adaptersOf(model)) {
    throw new BonsaiError(`${where}: under lora the base weights never train, so freezing their heads or neurons does nothing`, {
      hint: 'freeze adapters with a glob over their paths (e.g. "blocks.0.attn.W_Q.lora_*"), or drop the selector',
    });
  }
  return model.params;
}

/** What a freeze selector is selected over. */
interface FreezeContext {
  recipe: Recipe;
  model: CausalLM;
  tokenizer: Tokenizer;
  seqLen: number;
  /** The selector in errors, e.g. `freeze[2]`. */
  where: string;
  /** Where an attribution selector with a guard leaves its scores for the freezer. */
  guards: GuardSpec[];
}

/** A selection for every freeze-selector kind (gradients/freeze-kinds.ts). */
const freezeBuilders: Builders<typeof freezeKinds, [FreezeContext], Selection> = {
  // Under LoRA the selectors choose among the adapters (lora/attach.ts's trainableParams).
  glob: (glob, { model, where }) => selectGlob(trainableParams(model), glob, where),
  heads: (s, { model, where }) => selectHeads(baseOnly(model, `${where}.heads`), s.heads, model.config.nHeads, `${where}.heads`, model.config.nKvHeads),
  neurons: (s, { model, where }) => selectNeurons(baseOnly(model, `${where}.neurons`), s.neurons, `${where}.neurons`),
  attribution({ attribution: a }, { recipe, model, tokenizer, seqLen, where, guards }) {
    const examples = loadDataset(a.data, tokenizer, seqLen).examples;
    if (!examples.length) throw new BonsaiError(`${where}.attribution.data: ${a.data.path} holds no examples`);
    const batches = a.per === 'example'
      ? evalBatches(examples.slice(0, recipe.trainer.batch_size * a.batches), 1) // the same examples, one per batch
      : evalBatches(examples, recipe.trainer.batch_size, a.batches);
    const filter = attributionFilter(a.params);
    const params = trainableParams(model);
    if (![...params].some(([path, p]) => filter(path, p))) {
      throw new BonsaiError(`${where}.attribution.params: "${a.params}" matches no parameter`);
    }
    const scores = a.scores === 'random'
      ? randomScores(params, filter, recipe.run.seed)
      : attributionScores(params, batches, (b) => lmLoss(model, b), filter, a.scores);
    if (a.guard) {
      if (adaptersOf(model)) throw new BonsaiError(`${where}.attribution.guard: a guard restores frozen entries to their starting values, which under lora are the adapters; it is not supported with lora`, { hint: 'drop the guard, or train without lora' });
      guards.push({ scores, percent: a.top_percent, settings: a.guard, where });
    }
    return selectTopPercent(scores, a.top_percent);
  },
};

/** Seeded uniform scores over the tensors attribution would score: a random selection of the same size. */
function randomScores(params: ReadonlyMap<string, tf.Variable>, include: (path: string, p: tf.Variable) => boolean, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map([...params].filter(([path, p]) => include(path, p)).map(([path, p]) => [path, Float32Array.from({ length: p.size }, () => rng.next())]));
}

/**
 * The recipe's `interventions` as training-pass forward options (hooks in list order),
 * with a dispose for the direction tensors. Directions must match their hook's width.
 */
export function buildInterventions(recipe: Recipe, model: CausalLM): { forward?: ForwardOptions; dispose(): void } {
  const kept: tf.Tensor[] = [];
  const hooks: NonNullable<ForwardOptions['hooks']> = [];
  const valid = model.hookPoints();
  recipe.interventions.forEach((iv, i) => {
    const where = `interventions[${i}]`;
    if (!valid.includes(iv.hook)) throw new BonsaiError(`${where}.hook: unknown hook point "${iv.hook}"`, { hint: `e.g. ${valid.filter((h) => h.includes('resid')).slice(0, 3).join(', ')}` });
    const built = build(interventionBuilders, iv.kind, iv, model, where);
    kept.push(...built.kept);
    hooks.push({ at: iv.hook, fn: built.fn });
  });
  return { forward: hooks.length ? { hooks } : undefined, dispose: () => tf.dispose(kept) };
}

/**
 * Puts `freezer`'s masks on the optimizer and logs what is frozen (freeze/entries and
 * freeze/by_tensor/*); shared by the SFT and RL loops.
 */
export function applyFreezer(freezer: Freezer, optimizer: AdamW, tracker: Tracker, step: number, onLog?: (line: string) => void): void {
  freezer.install(optimizer);
  const guard = freezer.guard instanceof FreezeGuard ? freezer.guard : undefined;
  const logged = guard?.onGrow;
  if (guard) guard.onGrow = (e, f) => (logged?.(e, f), tracker.logMetrics(e.step - 1, { 'freeze/entries': f.counts.total, 'freeze/guard/percent': e.percent, 'freeze/guard/accuracy': e.after }));
  onLog?.(`freeze: ${freezer.counts.total} entries frozen (${freezer.describe()})`);
  const counts: Record<string, number> = { 'freeze/entries': freezer.counts.total };
  for (const [path, c] of Object.entries(freezer.counts.byPath)) if (c.frozen) counts[`freeze/by_tensor/${path}`] = c.frozen;
  tracker.logMetrics(step, counts);
}

/** The end-of-run check that frozen entries are bit-identical, logged as freeze/verified; throws if not. */
export function verifyFreezer(freezer: Freezer, model: CausalLM, tracker: Tracker, step: number, onLog?: (line: string) => void): void {
  const v = freezer.verify(trainableParams(model));
  tracker.logMetrics(step, { 'freeze/verified': v.ok ? 1 : 0 });
  onLog?.(v.ok ? 'freeze/verified: every frozen entry is bit-identical' : 'freeze/verified: FAILED');
  if (!v.ok) {
    const what = Object.entries(v.changed).map(([p, n]) => `${p} (${n})`).join(', ');
    throw new BonsaiError(`frozen parameters changed during training: ${what}`, { hint: 'this is a bug in bonsai; please report it' });
  }
}
