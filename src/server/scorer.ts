/**
 * The reward scorer behind the server: the recipe's frozen copy, probes and rewards, built
 * as the RL trainer builds them (buildModel → frozenCopy → loadRecipeProbes → buildRewards),
 * and scored through the same frozenPass + scoreRewards, so a served reward equals the
 * reward an in-process RL step computes for the same tokens.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { ActivationCache } from '../models/hooks.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import { recipeTokenizer } from '../models/init-kinds.ts';
import type { CausalLM } from '../models/model.ts';
import { tokenFeatures } from '../probes/capture.ts';
import type { Probe } from '../probes/probe.ts';
import { loadRecipeProbes } from '../probes/recipe.ts';
import type { Recipe } from '../recipe/schema.ts';
import { buildRewards } from '../rewards/build.ts';
import { scoreRewards } from '../rewards/compose.ts';
import { frozenPass } from '../rewards/frozen.ts';
import type { Reward } from '../rewards/types.ts';
import { buildModel } from '../models/init-build.ts';
import { rolloutBatchOf, type EncodedText } from './texts.ts';

/** One sequence's rewards: the weighted total, each reward's raw score, and (asked for) per-token probe scores. */
export interface SequenceScore {
  /** Weighted sum: sequence-level scores plus each per-token reward's sum over the completion. */
  total: number;
  /** Each reward's raw score (a per-token reward: its sum over the completion). */
  byName: Record<string, number>;
  /** Each per-token reward's raw score at every completion token, by name; absent when no reward is per token. */
  tokenRewards?: Record<string, number[]>;
  /** Completion tokens and, per probe reward, the probe's score at each of them. */
  tokens?: { ids: number[]; text: string[]; probes: Record<string, number[]> };
}

/** What the scorer has done, for /health and for tests that count frozen passes. */
export interface ScorerStats {
  passes: number;
  sequences: number;
  /** Frozen passes by batch size (rows), e.g. { "8": 12 }. */
  batchSizes: Record<string, number>;
  /** Wall time spent in passes (frozen forward + rewards), ms. */
  busyMs: number;
}

type RewardSpec = Recipe['rewards'][number];

export class RewardScorer {
  readonly stats: ScorerStats = { passes: 0, sequences: 0, batchSizes: {}, busyMs: 0 };

  private constructor(
    readonly recipe: Recipe,
    readonly tokenizer: Tokenizer,
    readonly frozen: CausalLM,
    readonly probes: Map<string, Probe>,
    readonly rewards: Reward[],
    readonly source: string,
  ) {}

  /** Builds the recipe's frozen copy, probes and rewards. The backend must already be initialised. */
  static async fromRecipe(recipe: Recipe, file = 'recipe'): Promise<RewardScorer> {
    if (recipe.rewards.length === 0) throw new BonsaiError(`${file}: the recipe has no rewards to serve`, { hint: 'add a rewards: [...] section (e.g. { name: probe, kind: probe, probe: NAME })' });
    const policyHosted = recipe.rewards.filter((r) => r.kind === 'probe' && r.host === 'policy').map((r) => r.name);
    if (policyHosted.length) {
      throw new BonsaiError(`${file}: reward(s) ${policyHosted.join(', ')} read the live policy (host: policy), which a reward server does not have`, {
        hint: 'serve frozen-copy probe rewards (host: frozen), the variant a policy cannot game',
      });
    }
    const tokenizer = recipeTokenizer(recipe.model);
    const model = buildModel(recipe, tokenizer);
    const frozen = model.frozenCopy();
    model.dispose();
    try {
      const probes = loadRecipeProbes(recipe, frozen);
      const rewards = await buildRewards(recipe, probes);
      const init = recipe.model.init;
      const source = 'checkpoint' in init && init.checkpoint ? `checkpoint ${init.checkpoint}` : 'hf_gpt2' in init && init.hf_gpt2 ? `hf_gpt2 ${init.hf_gpt2}` : `init.config (seed ${recipe.run.seed})`;
      return new RewardScorer(recipe, tokenizer, frozen, probes, rewards, source);
    } catch (e) {
      frozen.dispose();
      throw e;
    }
  }

  /** The model's context: no sequence (prompt + completion tokens) may be longer. */
  get nCtx(): number {
    return this.frozen.config.nCtx;
  }

  /**
   * Scores sequences in ONE frozen pass. `tokens[i]` asks for sequence i's per-token probe
   * scores (computed only when some sequence asks: a small product on the cached activations).
   */
  async score(items: readonly EncodedText[], tokens: readonly boolean[] = []): Promise<SequenceScore[]> {
    const t0 = performance.now();
    const batch = rolloutBatchOf(items);
    const pass = frozenPass(this.frozen, batch, this.rewards);
    try {
      const scored = await scoreRewards(this.rewards, batch, { frozen: pass });
      const perToken = tokens.some(Boolean) ? this.tokenScores(items, batch.T, pass.cache) : undefined;
      this.stats.passes++;
      this.stats.sequences += items.length;
      this.stats.batchSizes[items.length] = (this.stats.batchSizes[items.length] ?? 0) + 1;
      return items.map((e, r) => ({
        total: scored.total[r]!,
        byName: Object.fromEntries(Object.entries(scored.byName).map(([k, v]) => [k, v[r]!])),
        tokenRewards: scored.tokenTotal ? Object.fromEntries(Object.entries(scored.tokensByName).map(([k, v]) => [k, Array.from(v[r]!)])) : undefined,
        tokens: tokens[r] ? { ids: e.completionIds, text: e.completionIds.map((id) => this.tokenizer.decode([id])), probes: perToken![r]! } : undefined,
      }));
    } finally {
      pass.refLogprobs.dispose();
      pass.cache.dispose();
      this.stats.busyMs += performance.now() - t0;
    }
  }

  /** Per probe reward, each sequence's probe score at each completion token: [R][name][k]. */
  private tokenScores(items: readonly EncodedText[], T: number, cache: ActivationCache): Array<Record<string, number[]>> {
    const out = items.map(() => ({}) as Record<string, number[]>);
    for (const spec of this.recipe.rewards) {
      if (spec.kind !== 'probe') continue;
      const probe = this.probes.get(spec.probe)!;
      const s = tf.tidy(() => probe.score(tokenFeatures(cache.get(probe.meta.hook)))); // [R, T]
      const all = s.dataSync() as Float32Array;
      s.dispose();
      items.forEach((e, r) => {
        const p0 = r * T + e.promptIds.length;
        out[r]![spec.name] = Array.from(all.subarray(p0, p0 + e.completionIds.length));
      });
    }
    return out;
  }

  /** The loaded model, its fingerprint, probes and rewards (GET /v1/info). */
  info(): Record<string, unknown> {
    const c = this.frozen.config;
    return {
      recipe: this.recipe.run.name,
      model: { source: this.source, tokenizer: this.tokenizer.kind, params: this.frozen.numParams(), config: c },
      fingerprint: this.frozen.fingerprint(),
      probes: [...this.probes].map(([name, p]) => ({ name, hook: p.meta.hook, level: p.meta.level, kind: p.meta.kind.kind, threshold: p.meta.threshold, fingerprint: p.meta.fingerprint, metrics: p.meta.metrics })),
      rewards: this.recipe.rewards.map(describeReward),
    };
  }

  dispose(): void {
    this.rewards.forEach((r) => r.dispose?.());
    this.probes.forEach((p) => p.dispose());
    this.frozen.dispose();
  }
}

function describeReward(r: RewardSpec): Record<string, unknown> {
  const { name, kind, weight } = r;
  switch (r.kind) {
    case 'probe': return { name, kind, weight, probe: r.probe, aggregate: r.aggregate, sign: r.sign, host: r.host };
    case 'abstention': return { name, kind, weight, probe: r.probe, at: r.at, abstain: r.abstain, retract: r.retract, retract_cost: r.retract_cost, threshold: r.threshold, per_token: r.per_token };
    case 'exact_match': return { name, kind, weight, stop: r.stop };
    case 'regex': return { name, kind, weight, pattern: r.pattern, invert: r.invert };
    case 'length': return { name, kind, weight, target: r.target };
    case 'module': return { name, kind, weight, path: r.path, export: r.export };
  }
}
