/**
 * The activation-difference lens (Minder et al., arXiv 2510.13900): the mean difference of
 * each layer's residual stream between B and A over the first tokens of some text, read
 * through B's unembedding. A narrow fine-tune leaves a readable trace there: the tokens the
 * difference promotes name what the fine-tune was about.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { ActivationDirections } from '../gradients/directions-file.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';

export interface LensToken { token: string; id: number; logit: number }

/** One layer's reading. */
export interface LensLayer {
  layer: number;
  /** The hook the difference was read at (`blocks.N.hook_resid_post`). */
  hook: string;
  /** Tokens with the largest positive logit of the difference, largest first (none when it is 0). */
  promoted: LensToken[];
  /** Tokens with the most negative logit, most negative first. */
  suppressed: LensToken[];
  /** ‖mean(B − A)‖ at this layer. */
  norm: number;
  /** mean(B − A): [D]. */
  meanDiff: Float32Array;
}

export interface LensOptions {
  /** Token positions to average over (0 = first token); positions past a sequence's end are skipped. */
  positions: number[];
  /** Tokens listed per side (default 10). */
  topK?: number;
  batchSize?: number;
}

/**
 * Reads the lens. Only positions ≤ max(positions) are run: a causal model's activation at a
 * position depends on the tokens up to it, so the rest of each sequence cannot change it.
 * The difference δ is read as logits (δ ⊙ γ)·W_U with B's final LayerNorm gain γ and B's
 * unembedding (W_Eᵀ when tied): the linear part of the final read-out. The LayerNorm's
 * centring and scale are left out (they belong to a whole residual, not a difference), and
 * so are the biases, which a difference cancels.
 */
export function activationDiffLens(a: CausalLM, b: CausalLM, tokenizer: Tokenizer, sequences: number[][], opts: LensOptions): LensLayer[] {
  const { nLayers: L, dModel: D, nCtx } = b.config;
  if (!opts.positions.length || opts.positions.some((p) => !Number.isInteger(p) || p < 0 || p >= nCtx)) {
    throw new BonsaiError(`lens positions must be whole numbers in [0, ${nCtx}) (the context), got ${opts.positions.join(',')}`);
  }
  const want = new Set(opts.positions);
  const T = Math.max(...opts.positions) + 1;
  const seqs = sequences.map((s) => s.slice(0, T)).filter((s) => s.length > 0);
  const hooks = Array.from({ length: L }, (_, i) => `blocks.${i}.hook_resid_post`);
  const sums = hooks.map(() => new Float64Array(D));
  let count = 0;
  const bs = opts.batchSize ?? 128;
  for (let s = 0; s < seqs.length; s += bs) {
    const batch = seqs.slice(s, s + bs);
    const len = Math.max(...batch.map((x) => x.length));
    const ids = new Int32Array(batch.length * len);
    batch.forEach((x, j) => ids.set(x, j * len)); // right-padded: padding never reaches a real position
    const read = (m: CausalLM) => {
      const idsT = tf.tensor2d(ids, [batch.length, len], 'int32');
      const { logits, cache } = m.forward(idsT, { cache: hooks });
      const out = hooks.map((h) => cache.get(h).dataSync() as Float32Array); // [B, len, D] each
      tf.dispose([idsT, logits]);
      cache.dispose();
      return out;
    };
    const [ra, rb] = [read(a), read(b)];
    batch.forEach((x, j) => {
      for (let t = 0; t < x.length; t++) {
        if (!want.has(t)) continue;
        count++;
        const off = (j * len + t) * D;
        hooks.forEach((_, l) => {
          const sum = sums[l]!;
          for (let d = 0; d < D; d++) sum[d] = sum[d]! + rb[l]![off + d]! - ra[l]![off + d]!;
        });
      }
    });
  }
  if (count === 0) throw new BonsaiError(`lens: no sequence reaches position ${Math.min(...opts.positions)} (the data's sequences are too short)`);
  return sums.map((sum, layer) => {
    const meanDiff = Float32Array.from(sum, (x) => x / count);
    const logits = readOut(b, meanDiff);
    return { layer, hook: hooks[layer]!, ...topTokens(logits, tokenizer, opts.topK ?? 10), norm: Math.hypot(...meanDiff), meanDiff };
  });
}

/** (δ ⊙ γ)·W_U as JS logits [V]. */
function readOut(m: CausalLM, delta: Float32Array): Float32Array {
  const t = tf.tidy(() => {
    const x = tf.mul(tf.tensor2d(delta, [1, delta.length]), m.params.get('ln_final.w')!); // [1, D]
    const W = m.config.tiedEmbeddings ? tf.transpose(m.params.get('embed.W_E')!) : m.params.get('unembed.W_U')!; // [D, V]
    return tf.matMul(x, W as tf.Tensor2D); // [1, V]
  });
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

function topTokens(logits: Float32Array, tok: Tokenizer, k: number): { promoted: LensToken[]; suppressed: LensToken[] } {
  const order = Array.from(logits.keys()).sort((x, y) => logits[y]! - logits[x]!);
  const entry = (id: number): LensToken => ({ token: id === tok.eosId ? '<eos>' : tok.decode([id]), id, logit: logits[id]! });
  return {
    promoted: order.filter((id) => logits[id]! > 0).slice(0, k).map(entry),
    suppressed: order.reverse().filter((id) => logits[id]! < 0).slice(0, k).map(entry),
  };
}

/**
 * One layer's mean difference as a `bonsai directions` file (unit-normed; `mean_diff_norm`
 * in its stats is the length to steer by), so it can steer or ablate.
 */
export function lensDirections(layer: LensLayer, stats: Record<string, number | string> = {}): ActivationDirections {
  const n = layer.norm;
  if (!(n > 0)) throw new BonsaiError(`lens layer ${layer.layer}: the mean difference is zero; there is no direction to save`);
  return {
    format: 'bonsai-directions/1',
    kind: 'activation',
    hook: layer.hook,
    width: layer.meanDiff.length,
    vectors: [Array.from(layer.meanDiff, (x) => x / n)],
    stats: { method: 'diff-lens', mean_diff_norm: n, layer: layer.layer, ...stats },
  };
}
