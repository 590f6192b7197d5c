/**
 * Datasets: loading text and JSONL files into fixed-length examples, train/eval
 * splitting, resumable shuffled batching, and the unigram-entropy baseline.
 */
export type { Batch, Dataset, DatasetSource, DatasetStats, Example } from './types.ts';
export { loadDataset, textDataset, jsonlDataset, readDataFile } from './load.ts';
export { parseJsonl, parseJsonLines, type JsonlRecord } from './jsonl.ts';
export { parseMessages, renderChat, chatSegments } from './chat.ts';
export { loadPromptData, promptIds, type PromptData } from './prompts.ts';
export { windowExamples, sequenceExample, countTargets, type Segments } from './examples.ts';
export { splitTrainEval, type Split } from './split.ts';
export {
  Batcher,
  evalBatches,
  makeBatch,
  type BatcherOptions,
  type BatcherState,
} from './batcher.ts';
export { unigramEntropyBits, targetCounts, type UnigramEntropy } from './entropy.ts';
export { mixSeed } from './seed.ts';
