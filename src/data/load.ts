/**
 * Loading a dataset file into Examples. Corpora here are small (≤ tens of MB), so the
 * whole file is read and tokenised at once; everything after tokenising is O(tokens).
 */
import { readFileSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';
import { endOfSequenceIds, type Tokenizer } from '../models/tokenizer.ts';
import { chatSegments } from './chat.ts';
import { documentInputIds, inputPrefix, promptInputIds, renderedInputIds, renderedTailIds } from '../models/input-ids.ts';
import { checkSeqLen, countTargets, sequenceExample, windowExamples, type Segments } from './examples.ts';
import { parseJsonl, type JsonlRecord } from './jsonl.ts';
import type { Dataset, DatasetSource, Example } from './types.ts';

/** Reads a UTF-8 file, turning the usual fs failures into errors that name the path. */
export function readDataFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new BonsaiError(`data file not found: ${path}`, {
        hint: 'paths are relative to the working directory unless absolute',
        cause: e,
      });
    }
    if (code === 'EISDIR') throw new BonsaiError(`data path is a directory, not a file: ${path}`);
    throw new BonsaiError(`cannot read data file ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Plain text → one token stream → language-modelling windows (see windowExamples). The
 * file is one document: it gets the tokenizer's special tokens (a BOS first where the
 * model's tokenizer adds one), and no EOS beyond them.
 */
export function textDataset(
  content: string,
  file: string,
  tokenizer: Tokenizer,
  seqLen: number,
): Dataset {
  checkSeqLen(seqLen);
  const tokens = documentInputIds(tokenizer, content);
  if (tokens.length < 2) {
    throw new BonsaiError(`dataset is empty: ${tokens.length} token(s), need at least 2`, {
      where: file,
    });
  }
  const examples = windowExamples(tokens, seqLen);
  return {
    examples,
    stats: {
      file,
      examples: examples.length,
      tokens: tokens.length,
      targets: countTargets(examples),
      truncated: 0,
    },
  };
}

/**
 * JSONL → one Example per non-blank line. `{"text"}` lines train on every token and
 * end in EOS; `{"prompt","completion"}` lines train on the completion and its EOS only,
 * so the model learns to answer and to stop, not to write prompts.
 */
export function jsonlDataset(
  content: string,
  file: string,
  tokenizer: Tokenizer,
  seqLen: number,
): Dataset {
  checkSeqLen(seqLen);
  const records = parseJsonl(content, file);
  const examples: Example[] = [];
  let tokens = 0;
  let truncated = 0;
  for (const rec of records) {
    const { prompt, completion } = recordSegments(rec, tokenizer, file);
    const built = sequenceExample({ prompt, completion }, seqLen);
    tokens += prompt.length + completion.length;
    if (built.truncated) truncated++;
    examples.push(built.example);
  }
  return {
    examples,
    stats: { file, examples: examples.length, tokens, targets: countTargets(examples), truncated },
  };
}

/**
 * One JSONL record → prompt and completion ids, the completion ending in EOS, as
 * models/input-ids.ts makes model input: the sequence starts with the tokenizer's prefix
 * (BOS), a text line is one document (its suffix, then EOS unless the suffix ends in one).
 * A text line is a completion with an empty prompt but the prefix: all its tokens count. A
 * messages line is rendered with the chat template (one BOS, whether the template renders
 * it or not; its end-of-turn may already be an EOS id: then none is added).
 */
function recordSegments(rec: JsonlRecord, tokenizer: Tokenizer, file: string): Segments {
  const ends = new Set(endOfSequenceIds(tokenizer));
  const endOnce = (ids: number[]) => {
    if (!ids.some((id) => ends.has(id))) ids.push(tokenizer.eosId);
    return ids;
  };
  if (rec.kind === 'messages') {
    const chat = chatSegments(tokenizer, rec.messages, `${file}:${rec.line}`);
    const completion = endOnce(renderedTailIds(tokenizer, chat.completion));
    return { prompt: renderedInputIds(tokenizer, chat.prompt, completion), completion };
  }
  // prompt + completion is one document: the prefix before the prompt, the suffix after the completion.
  const suffix = tokenizer.specialTokenRule?.suffix ?? [];
  const prompt = rec.kind === 'prompt' ? promptInputIds(tokenizer, rec.prompt) : [...inputPrefix(tokenizer)];
  return { prompt, completion: endOnce([...tokenizer.encode(rec.kind === 'prompt' ? rec.completion : rec.text), ...suffix]) };
}

/**
 * Loads a dataset file with the given tokenizer, fitting every example to seqLen+1 ids.
 * Throws BonsaiError for a missing file, a bad JSONL line (naming `file:line`), or a
 * dataset with nothing to train on.
 */
export function loadDataset(source: DatasetSource, tokenizer: Tokenizer, seqLen: number): Dataset {
  const content = readDataFile(source.path);
  let ds: Dataset;
  switch (source.format) {
    case 'text':
      ds = textDataset(content, source.path, tokenizer, seqLen);
      break;
    case 'jsonl':
      ds = jsonlDataset(content, source.path, tokenizer, seqLen);
      break;
    default:
      throw new BonsaiError(`unknown dataset format "${String(source.format)}"`, {
        hint: 'use "text" or "jsonl"',
      });
  }
  if (ds.stats.targets === 0) {
    // E.g. every completion was truncated away: training would divide by zero tokens.
    throw new BonsaiError('dataset has no training targets after fitting to seq_len', {
      where: source.path,
      hint: 'raise seq_len or shorten prompts',
    });
  }
  return ds;
}
