/**
 * Why does attribution freezing keep A but miss B on some seeds? Per seed: what the freeze
 * selection holds of B's routes (the `+`/`q` embedding rows, layer-1 W_Q per head, …), then
 * the fine-tune on B and the accuracies on A and B.
 *
 *   node bin/run-ts.js scripts/forgetting/diagnose.ts --seeds 0,1,2,3,4 [--set PATH=VALUE]...
 *     [--recipe recipes/forgetting-attribution.yaml] [--release REGEX]... [--cache DIR]
 *
 * Base checkpoints (task A, one per seed) are cached in --cache (default
 * /tmp/bonsai-forgetting-bases) and reused. `--release REGEX` un-freezes every selected entry
 * of the tensors whose path matches (e.g. `blocks\.1\.attn\.W_[QK]`), to test a route.
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeForgettingData } from '../../bench/tasks/forgetting.ts';
import { accuracy, examples, recipeFor } from '../../bench/tasks/common.ts';
import { initBackend } from '../../src/backend/index.ts';
import { Freezer } from '../../src/gradients/freeze.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildData, buildTransforms } from '../../src/trainer/build.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { selectFreeze } from '../../src/trainer/design.ts';
import { train } from '../../src/trainer/index.ts';
import { runSft } from '../../src/trainer/sft.ts';

const args = process.argv.slice(2);
const many = (flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
const one = (flag: string, dflt: string) => many(flag)[0] ?? dflt;
const seeds = one('--seeds', '0,1,2,3,4').split(',').map(Number);
const recipeFile = one('--recipe', 'recipes/forgetting-attribution.yaml');
const cache = one('--cache', '/tmp/bonsai-forgetting-bases');
const sets = many('--set');
const releases = many('--release').map((r) => new RegExp(`^(${r})$`));

const DIR = 'data/tasks/forgetting';
// Rewriting the data while another run reads it would race; it is the same fixed-seed data anyway.
if (!existsSync(`${DIR}/b_eval.jsonl`)) writeForgettingData();
const evalA = examples(`${DIR}/a_eval.jsonl`, 7);
const evalB = examples(`${DIR}/b_eval.jsonl`, 7);

/** The task-A model of a seed, trained once and cached. */
async function baseFor(seed: number): Promise<string> {
  const dir = join(cache, `base-seed${seed}`);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    const pre = await train(recipeFor('recipes/forgetting-pretrain.yaml', seed));
    cpSync(pre.checkpoint!, dir, { recursive: true });
  }
  return dir;
}

const rowFrozen = (flags: Uint8Array | undefined, row: number, D: number) => (flags ? flags.subarray(row * D, (row + 1) * D).reduce((s, f) => s + f, 0) : 0);
const share = (flags: Uint8Array | undefined) => (flags ? (flags.reduce((s, f) => s + f, 0) / flags.length) : 0);

for (const seed of seeds) {
  const recipe = recipeFor(recipeFile, seed, [`model.init.checkpoint=${await baseFor(seed)}`, ...sets]);
  await initBackend(recipe.backend);
  const tokenizer = createTokenizer(recipe.model.tokenizer);
  const model = buildModel(recipe, tokenizer);
  const data = buildData(recipe, tokenizer, model.config.nCtx);
  const sel = selectFreeze(recipe, model, tokenizer, data.seqLen);
  for (const [path, flags] of sel) if (releases.some((re) => re.test(path))) flags.fill(0);
  const D = model.config.dModel;
  const E = sel.get('embed.W_E');
  const rows = ['p', 'q', '=', '+', 'a', 'f'].map((c) => `${c}:${rowFrozen(E, c.charCodeAt(0), D)}`).join(' ');
  const pct = (p: string) => `${(100 * share(sel.get(p))).toFixed(0)}%`;
  const headQ = (l: number) => {
    const f = sel.get(`blocks.${l}.attn.W_Q`);
    if (!f) return '0%/0%';
    const dh = D / model.config.nHeads;
    return Array.from({ length: model.config.nHeads }, (_, h) => {
      let n = 0;
      for (let r = 0; r < D; r++) for (let c = h * dh; c < (h + 1) * dh; c++) n += f[r * D + c]!;
      return `${((100 * n) / (D * dh)).toFixed(0)}%`;
    }).join('/');
  };
  const sum = (s: Map<string, Uint8Array>) => [...s.values()].reduce((n, f) => n + f.reduce((a, b) => a + b, 0), 0);
  console.log(
    `seed ${seed}: frozen ${sum(sel)}; embed rows frozen of ${D} [${rows}]; pos ${pct('pos_embed.W_pos')}; ` +
      `W_Q L0 ${headQ(0)} L1 ${headQ(1)}; W_K L0 ${pct('blocks.0.attn.W_K')} L1 ${pct('blocks.1.attn.W_K')}; ` +
      `W_V/W_O L1 ${pct('blocks.1.attn.W_V')}/${pct('blocks.1.attn.W_O')}; mlp L0 ${pct('blocks.0.mlp.W_in')} L1 ${pct('blocks.1.mlp.W_in')}; W_U ${pct('unembed.W_U')}`,
  );
  const before = { a: accuracy(model, evalA), b: accuracy(model, evalB) };
  const freezer = sum(sel) ? new Freezer(model.params, sel) : undefined;
  await runSft({ recipe, model, tokenizer, data, transforms: buildTransforms(recipe, { model, tokenizer, seqLen: data.seqLen }), makeFreezer: () => freezer, tracker: new NullTracker(), recipeYaml: '' });
  console.log(`seed ${seed}: A ${(100 * before.a).toFixed(1)} → ${(100 * accuracy(model, evalA)).toFixed(1)}; B ${(100 * before.b).toFixed(1)} → ${(100 * accuracy(model, evalB)).toFixed(1)}`);
  model.dispose();
}
