import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfig } from '../../src/models/config.ts';
import { HookedTransformer } from '../../src/models/transformer.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { saveCheckpoint } from '../../src/trainer/checkpoint.ts';
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
});
