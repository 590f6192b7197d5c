import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfig } from '../../src/models/index.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { sweepHooks } from '../../src/cli/probe.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { constantProbe } from '../helpers/probe.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('bonsai generate --probe/--insert and probe sweep hooks', () => {
  it('inserts the text where the frozen-model probe fires and reports the count; a probe of another model is refused', () => {
    const dir = tempDir();
    const model = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 4);
    saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
    const frozen = model.frozenCopy();
    saveProbe(join(dir, 'probe'), constantProbe(frozen, 'blocks.0.hook_resid_post', 5));
    const g = bonsai(['generate', '--checkpoint', join(dir, 'ck'), '--prompt', 'Q:', '--max-new-tokens', '6', '--temperature', '0', '--backend', 'cpu', '--probe', join(dir, 'probe'), '--insert', ' IDK']);
    expect(g.code).toBe(0);
    expect(g.stdout.startsWith('Q: IDK')).toBe(true);
    expect(g.stderr).toMatch(/interventions: 1 /);

    const other = HookedTransformer.create(model.config, 5);
    saveCheckpoint(join(dir, 'other'), { config: other.config, tokenizer: 'byte', weights: other.valuesSync() });
    const bad = bonsai(['generate', '--checkpoint', join(dir, 'other'), '--prompt', 'Q:', '--backend', 'cpu', '--probe', join(dir, 'probe'), '--insert', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/was trained on another model/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
    [model, frozen, other].forEach((m) => m.dispose());
  });

  it('sweeps every layer of the named hook', () => {
    expect(sweepHooks('blocks.1.mlp.hook_post', 3)).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post', 'blocks.2.mlp.hook_post']);
    expect(sweepHooks('hook_embed', 2)).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
  });

  it('probe train runs on the loop driver: per-epoch train and val loss reach the tracker, the summary metrics too', () => {
    const dir = tempDir();
    const model = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 64 }), 4);
    saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
    model.dispose();
    const recipe = join(dir, 'probe.yaml');
    writeFileSync(recipe, [
      `run: { name: t, seed: 0, out_dir: ${join(dir, 'out')} }`,
      'job: probe',
      'backend: cpu',
      `model: { tokenizer: byte, init: { checkpoint: ${join(dir, 'ck')} } }`,
      'probes:',
      '  - { name: halluc, hook: blocks.0.hook_resid_post, level: token, kind: { kind: logistic, l2: 1.0e-3 },',
      `      train: { data: ${join(process.cwd(), 'data/hallucination/probe.jsonl')}, max_epochs: 7, seed: 0 } }`,
      `tracking: { uri: ${join(dir, 'mlruns')}, experiment: t }`,
    ].join('\n'));
    const r = bonsai(['probe', 'train', recipe]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/halluc\s+blocks\.0\.hook_resid_post\s+[\d.]+/);
    const exp = readdirSync(join(dir, 'mlruns')).find((e) => e !== '0' && e !== '.trash')!;
    const run = readdirSync(join(dir, 'mlruns', exp)).find((e) => e !== 'meta.yaml')!;
    const metric = (m: string) => readFileSync(join(dir, 'mlruns', exp, run, 'metrics', 'probes', 'halluc', m), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[2]));
    expect(metric('train_loss')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(metric('val_loss')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(metric('auroc')).toEqual([0]);
  });
});
