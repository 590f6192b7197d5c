/** Models: the hooked transformer, hook points, frozen copies, generation, tokenizers, checkpoints. */
export { HookedTransformer, type ForwardResult } from './transformer.ts';
export { modelConfig, validateModelConfig, dHead, type ModelConfig } from './config.ts';
export { sameArchitecture, storedConfig, configFromStored, describeConfig, type LMConfig, type ModelFamily } from './lm-config.ts';
export type { CausalLM, HiddenResult, LinearTransform, WeightTransform } from './model.ts';
export { createModel, modelFromValues } from './registry.ts';
export { paramSpecs, type ParamSpec } from './params.ts';
export { hookNames, ActivationCache, type HookFn, type HookContext, type HookSelector, type ForwardOptions } from './hooks.ts';
export { generate, type GenerateOptions, type Generation } from './generate.ts';
export { sampleToken, argmax, type SamplingOptions } from './sampling.ts';
export { fingerprintOf } from './fingerprint.ts';
export { loadHfGpt2, saveHfGpt2, type HfGpt2 } from './hf-gpt2.ts';
export { loadHfTokenizer, type HfTokenizer, type ChatMessage } from './hf-tokenizer.ts';
export { decoderConfigFromHf, type DecoderConfig, type FamilyName, type RopeScaling } from './families/config.ts';
export { FamilyDecoder, familyHookNames } from './families/decoder.ts';
export { familyParamSpecs } from './families/layout.ts';
export { readHfCheckpoint, loadHfDecoder, type HfCheckpoint } from './families/load.ts';
export { saveHfCheckpoint, type HfWeightDtype } from './families/save.ts';
