/**
 * Every model family bonsai builds, one module each. Adding a family: its module beside this
 * file, and its line in FAMILIES (docs/models.md shows the commit that added OLMo 2).
 */
import type { Family } from './family.ts';
import { gemma2 } from './gemma2.ts';
import { gemma3 } from './gemma3.ts';
import { gpt2 } from './gpt2.ts';
import { gptNeox } from './gpt-neox.ts';
import { llama } from './llama.ts';
import { mistral } from './mistral.ts';
import { olmo2 } from './olmo2.ts';
import { qwen2 } from './qwen2.ts';
import { qwen3 } from './qwen3.ts';

/** The registered families; the first is the one a checkpoint without a `family` field holds. */
export const FAMILIES: readonly Family[] = [gpt2, llama, mistral, qwen2, qwen3, gptNeox, gemma2, gemma3, olmo2];

/** The family named `name`, or undefined. */
export function familyNamed(name: string): Family | undefined {
  return FAMILIES.find((f) => f.name === name);
}

/** The family of a config (its `family` field; GPT-2 when absent, as checkpoints written before families were). */
export function familyOf(c: { family?: string }): Family {
  const f = familyNamed(c.family ?? FAMILIES[0]!.name);
  if (!f) throw new Error(`internal: no family module ${c.family}`);
  return f;
}

/** The family whose config.json says `model_type`. */
export function familyOfModelType(modelType: string): Family | undefined {
  return FAMILIES.find((f) => f.modelTypes.includes(modelType));
}

/** Every family name, for the recipe's enum and messages. */
export function familyNames(): string[] {
  return FAMILIES.map((f) => f.name);
}

export type { DecoderConfig, Family, FamilyRecipeConfig, HfTensorSpec, RopeScaling, RopeSpec, Activation } from './family.ts';
