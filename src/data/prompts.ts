/**
 * RL prompt data: JSONL lines `{"prompt": text, "completion"?: answer}` or
 * `{"messages": [{role, content}, ...], "completion"?: answer}`. A messages line is rendered
 * with the model's chat template plus its generation prompt (the assistant's turn opens,
 * the policy writes it) and encoded special-aware; its `prompt` is the rendered text, which
 * is what text rewards and logs see.
 */
import type { Tokenizer } from '../models/tokenizer.ts';
import { parseMessages, renderChat } from './chat.ts';
import { promptInputIds, renderedInputIds } from '../models/input-ids.ts';
import { parseJsonLines } from './jsonl.ts';
import { readDataFile } from './load.ts';
import type { ChatMessage } from '../models/tokenizer-contract.ts';

/** One prompt: its text, its ids when they are not the plain text's model input (a rendered chat), the reference answer. */
export interface PromptData {
  prompt: string;
  ids?: number[];
  answer?: string;
}

type PromptLine = { line: number; answer?: string } & ({ prompt: string } | { messages: ChatMessage[] });

function promptLine(value: unknown, line: number): PromptLine | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object per line: {"prompt": string} or {"messages": [...]}, with an optional "completion"';
  const o = value as Record<string, unknown>;
  if ('completion' in o && typeof o.completion !== 'string') return `field "completion" must be a string, got ${JSON.stringify(o.completion)}`;
  const answer = o.completion as string | undefined;
  if ('messages' in o) {
    if ('prompt' in o) return 'has both "prompt" and "messages"; use one per line';
    const messages = parseMessages(o.messages);
    return typeof messages === 'string' ? messages : { line, answer, messages };
  }
  if (typeof o.prompt !== 'string') return `field "prompt" must be a string, got ${JSON.stringify(o.prompt)} (or give "messages")`;
  return { line, answer, prompt: o.prompt };
}

/**
 * Reads RL prompts, rendering messages lines with `tok`'s chat template. Bad lines are one
 * error naming file:line each; a template that cannot render names its file and the line.
 */
export function loadPromptData(path: string, tok: Tokenizer): PromptData[] {
  const lines = parseJsonLines(readDataFile(path), path, promptLine, { empty: 'no prompts: every line is blank' });
  return lines.map((l) => {
    if ('prompt' in l) return { prompt: l.prompt, answer: l.answer };
    const prompt = renderChat(tok, l.messages, { addGenerationPrompt: true, where: `${path}:${l.line}` });
    return { prompt, ids: renderedInputIds(tok, prompt), answer: l.answer };
  });
}

/** A prompt's model input: the rendered chat's ids, else the prompt text as plain text (models/input-ids.ts: with the tokenizer's BOS). */
export function promptIds(p: PromptData, tok: Tokenizer): number[] {
  return p.ids ?? promptInputIds(tok, p.prompt);
}
