/** Models: the hooked transformer, its families, hook points, frozen copies, generation, tokenizers, checkpoints. */
export { HookedTransformer, type ForwardResult } from './decoder.ts';
export { modelConfig, type Gpt2ConfigInput } from './families/gpt2.ts';
export { sameArchitecture, storedConfig, configFromStored, describeConfig, asLMConfig, type LMConfig, type LMConfig as ModelConfig, type ModelFamily } from './lm-config.ts';
export type { CausalLM, HiddenResult, WeightTransform } from './model.ts';
export { createModel, modelFromValues } from './registry.ts';
export { paramSpecs, type ParamSpec } from './params.ts';
export { hookNames, ActivationCache, type HookFn, type HookContext, type HookSelector, type ForwardOptions } from './hooks.ts';
export { generate, type GenerateOptions, type Generation } from './generate.ts';
export { sampleToken, argmax, type SamplingOptions } from './sampling.ts';
export { fingerprintOf } from './fingerprint.ts';
export { loadHfTokenizer, type HfTokenizer, type ChatMessage } from './hf-tokenizer.ts';
export { FAMILIES, familyNames, type Family } from './families/index.ts';
export { decoderConfigFromHf, familyConfigFromRecipe, hfConfigOfDecoder, type DecoderConfig, type RopeScaling } from './families/config.ts';
export { readHfCheckpoint, loadHfModel, loadHfGpt2, type HfCheckpoint } from './families/load.ts';
export { saveHfCheckpoint, saveHfModel, saveHfGpt2, type HfWeightDtype } from './families/save.ts';
