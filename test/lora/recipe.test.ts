import { describe, expect, it } from 'vitest';
import { parseAnyRecipe } from '../../src/recipe/index.ts';
import { errorLines, VALID } from '../recipe/helpers.ts';

describe('the lora recipe section', () => {
  it('parses with PEFT-like defaults', () => {
    const r = parseAnyRecipe(`${VALID}lora: { targets: ["blocks.*.attn.W_Q"] }\n`, 'r.yaml');
    expect(r.lora).toEqual({ r: 8, alpha: 16, dropout: 0, rslora: false, targets: ['blocks.*.attn.W_Q'] });
  });

  it('refuses targets that select no adaptable weight, at file:line, naming the nearest paths', () => {
    const text = `${VALID}lora: { r: 4, targets: ["blocks.*.attn.W_Q", "blocks.0.attn.Wq", "embed.W_E", "blocks.*.ln1.w"] }\n`;
    expect(errorLines(() => parseAnyRecipe(text, 'r.yaml'))).toEqual([
      'r.yaml:11:46: lora.targets.1: "blocks.0.attn.Wq" matches no parameter; nearest adaptable paths: "blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V" ("*" matches anything, dots included)',
      expect.stringMatching(/^r\.yaml:11:66: lora\.targets\.2: "embed\.W_E" matches only parameters that cannot carry an adapter/),
      expect.stringMatching(/^r\.yaml:11:79: lora\.targets\.3: "blocks\.\*\.ln1\.w" matches only parameters that cannot carry an adapter/),
    ]);
  });

  it('needs targets or from, not both, and checks other parameter globs against the adapters', () => {
    expect(errorLines(() => parseAnyRecipe(`${VALID}lora: { r: 4 }\n`, 'r.yaml'))).toEqual([expect.stringMatching(/lora: give lora\.targets \(new adapters\) or lora\.from/)]);
    const ok = `${VALID}lora: { targets: ["blocks.0.attn.W_Q"] }\nfreeze: ["blocks.0.attn.W_Q.lora_A"]\n`;
    expect(parseAnyRecipe(ok, 'r.yaml').freeze).toEqual(['blocks.0.attn.W_Q.lora_A']);
    const base = `${VALID}lora: { targets: ["blocks.0.attn.W_Q"] }\nfreeze: ["blocks.1.*"]\n`;
    expect(errorLines(() => parseAnyRecipe(base, 'r.yaml'))).toEqual([expect.stringMatching(/freeze\.0: "blocks\.1\.\*" matches no parameter; did you mean "blocks\.0\.\*"/)]);
  });
});
