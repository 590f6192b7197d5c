/**
 * Where each linear map of the model reads its input and writes its output, in hook-point
 * terms, so K-FAC can collect A = E[aaᵀ] (inputs) and G = E[ggᵀ] (output gradients) for
 * any weight matrix by path, in any family: the config's flags say where the norms sit and
 * whether the MLP is gated. Layouts follow models/layout.ts: every W is [in, out], used as
 * y = x·W + b.
 */
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';
import { editDistance } from '../registry/suggest.ts';
import { globToRegExp } from '../util/glob.ts';

/** The MLP matrices: the paper's (and the default) targets. */
export const DEFAULT_KFAC_TARGETS = ['blocks.*.mlp.W_in', 'blocks.*.mlp.W_out'];

/** One editable linear map. */
export interface LinearSite {
  /** Parameter path, e.g. `blocks.1.mlp.W_in`. */
  path: string;
  /** Hook point whose activation is (or, after `inputNorm`, becomes) the map's input [B, T, in]. */
  inputHook: string;
  /** The block's norm between `inputHook` and the map (its parameter prefix), when the input is not hooked directly. */
  inputNorm?: string;
  /** Hook point holding the map's output (before any nonlinearity or post-norm) [B, T, out] or [B, T, heads, dh]. */
  outputHook: string;
  /** The output hook's trailing dims: [out], or [heads, dh] for q/k/v. */
  outShape: number[];
  inDim: number;
  outDim: number;
}

/** Every linear map inside the blocks, by path (embeddings and unembedding are not edited). */
export function linearSites(model: CausalLM): Map<string, LinearSite> {
  const c = model.config;
  const { dModel: D, dMlp: M, nHeads: H, nKvHeads: KV, dHead: dh } = c;
  // Pre-norms sit between the residual stream and the map; norms after a sublayer sit after its output hook.
  const [pre, post] = [c.normPlacement !== 'post', c.normPlacement !== 'pre'];
  const sites = new Map<string, LinearSite>();
  const add = (s: Omit<LinearSite, 'outDim'>) => sites.set(s.path, { ...s, outDim: s.outShape.reduce((a, b) => a * b, 1) });
  for (let i = 0; i < c.nLayers; i++) {
    const b = `blocks.${i}`;
    const attnIn = { inputHook: `${b}.hook_resid_pre`, ...(pre ? { inputNorm: `${b}.ln1` } : {}), inDim: D };
    for (const [n, heads] of [['Q', H], ['K', KV], ['V', KV]] as const) add({ path: `${b}.attn.W_${n}`, ...attnIn, outputHook: `${b}.attn.hook_${n.toLowerCase()}`, outShape: [heads, dh] });
    add({ path: `${b}.attn.W_O`, inputHook: `${b}.attn.hook_z`, inDim: H * dh, outputHook: post ? `${b}.attn.hook_out` : `${b}.hook_attn_out`, outShape: [D] });
    const mlpIn = { inputHook: c.parallelResidual ? `${b}.hook_resid_pre` : `${b}.hook_resid_mid`, ...(pre ? { inputNorm: `${b}.ln2` } : {}), inDim: D };
    if (c.mlp.gated) add({ path: `${b}.mlp.W_gate`, ...mlpIn, outputHook: `${b}.mlp.hook_pre`, outShape: [M] });
    add({ path: `${b}.mlp.W_in`, ...mlpIn, outputHook: c.mlp.gated ? `${b}.mlp.hook_pre_linear` : `${b}.mlp.hook_pre`, outShape: [M] });
    add({ path: `${b}.mlp.W_out`, inputHook: `${b}.mlp.hook_post`, inDim: M, outputHook: post ? `${b}.mlp.hook_out` : `${b}.hook_mlp_out`, outShape: [D] });
  }
  return sites;
}

/**
 * The sites the target globs select, in the model's parameter order. A glob that matches
 * no parameter, or only parameters that are not linear maps in a block, is an error that
 * lists the nearest editable paths.
 * @param where names the field in errors, e.g. `recipes/x.yaml: edit.targets`
 */
export function resolveTargets(model: CausalLM, globs: readonly string[], where = 'edit.targets'): LinearSite[] {
  const sites = linearSites(model);
  const chosen = new Set<string>();
  const problems: string[] = [];
  for (const glob of globs) {
    const re = globToRegExp(glob);
    const matched = [...model.params.keys()].filter((p) => re.test(p));
    const editable = matched.filter((p) => sites.has(p));
    if (editable.length === 0) {
      const why = matched.length ? `matches only ${matched.slice(0, 4).join(', ')}, which K-FAC does not edit (it edits the blocks' weight matrices)` : 'matches no parameter';
      problems.push(`"${glob}" ${why}; nearest editable paths: ${nearest(glob, [...sites.keys()]).join(', ')}`);
    }
    for (const p of editable) chosen.add(p);
  }
  if (problems.length) throw new BonsaiError(`${where}: ${problems.join('; ')}`, { hint: `globs use * for any text, e.g. ${DEFAULT_KFAC_TARGETS.join(', ')}` });
  return [...sites.values()].filter((s) => chosen.has(s.path));
}

/** The `k` candidates closest to `glob` by edit distance (the glob's stars count as text). */
function nearest(glob: string, candidates: readonly string[], k = 5): string[] {
  return [...candidates]
    .map((c) => ({ c, d: editDistance(glob.toLowerCase(), c.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((x) => x.c);
}
