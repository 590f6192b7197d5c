/** LoRA adapters (docs/lora.md): the adapters, putting them on a model, PEFT's files, merging. */
export { LoraAdapters, initialAdapters, adapterPaths, type AdapterSet, type AdapterValues } from './adapters.ts';
export { attachLora, detachLora, adaptersOf, trainableParams, frozenReference, type LoraHost } from './attach.ts';
export { attachRecipeLora } from './build.ts';
export { peftFiles, readPeftAdapter, type PeftAdapter } from './peft.ts';
export { peftModules, type PeftModule } from './modules.ts';
export { mergeAdapters, adapterDelta } from './merge.ts';
export { exportMergedAdapter, exportMergedCheckpoint } from './export.ts';
export { loraScale, type LoraSettings } from './settings.ts';
