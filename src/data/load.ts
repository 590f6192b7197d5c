/**
 * Loading a dataset file into Examples. Corpora here are small (≤ tens of MB), so the
 * whole file is read and tokenised at once; everything after tokenising is O(tokens).
 */
import { readFileSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';
import { endOfSequenceIds, type Tokenizer } from '../models/tokenizer.ts';
import { chatSegments, encodeRendered } from './chat.ts';
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
 * Plain text → one token stream → language-modelling windows (see windowExamples).
 * No EOS is added: the file is one document.
 */
export function textDataset(
  content: string,
  file: string,
  tokenizer: Tokenizer,
  seqLen: number,
): Dataset {
  checkSeqLen(seqLen);
  const tokens = tokenizer.encode(content);
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
 * One JSONL record → prompt and completion ids, the completion ending in EOS. A text line
 * is a completion with an empty prompt: all tokens but the first count. A messages line is
 * rendered with the chat template (its end-of-turn may already be an EOS id: then none is added).
 */
function recordSegments(rec: JsonlRecord, tokenizer: Tokenizer, file: string): Segments {
  if (rec.kind === 'messages') {
    const chat = chatSegments(tokenizer, rec.messages, `${file}:${rec.line}`);
    const completion = encodeRendered(tokenizer, chat.completion);
    const ends = new Set(endOfSequenceIds(tokenizer));
    if (!completion.some((id) => ends.has(id))) completion.push(tokenizer.eosId);
    return { prompt: encodeRendered(tokenizer, chat.prompt), completion };
  }
  const prompt = rec.kind === 'prompt' ? tokenizer.encode(rec.prompt) : [];
  const completion = tokenizer.encode(rec.kind === 'prompt' ? rec.completion : rec.text);
  completion.push(tokenizer.eosId);
  return { prompt, completion };
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
