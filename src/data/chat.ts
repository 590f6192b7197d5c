/**
 * Chat data: lines given as `{"messages": [{"role", "content"}, ...]}` are rendered with the
 * model's `chat_template` (tokenizer hf, hf-tokenizer.ts) and the result is encoded
 * special-aware (models/input-ids.ts), so `<|im_start|>` in the rendered text becomes its id. User-written text
 * elsewhere stays plain text (Tokenizer.encode): only the template may emit special tokens.
 */
import { BonsaiError } from '../errors.ts';
import { asHfTokenizer, type ChatMessage, type Tokenizer } from '../models/tokenizer-contract.ts';

const SHAPE = '"messages" must be a non-empty list of {"role": string, "content": string}';

/** Checks a line's `messages` value; returns the messages or what is wrong with them. */
export function parseMessages(value: unknown): ChatMessage[] | string {
  if (!Array.isArray(value) || value.length === 0) return `${SHAPE}, got ${value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 80)}`;
  for (let i = 0; i < value.length; i++) {
    const m = value[i] as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return `messages[${i}] must be an object {"role", "content"}, got ${JSON.stringify(m)}`;
    for (const k of ['role', 'content']) if (typeof m[k] !== 'string') return `messages[${i}].${k} must be a string, got ${JSON.stringify(m[k])}`;
  }
  // Only role and content reach the template: other keys of a line are not the template's input.
  return value.map((m: { role: string; content: string }) => ({ role: m.role, content: m.content }));
}

/**
 * Renders `messages` with the tokenizer's chat template. Errors (a tokenizer without a
 * template, a template that fails to render) name the template's file and `where` (file:line).
 */
export function renderChat(tok: Tokenizer, messages: ChatMessage[], opts: { addGenerationPrompt: boolean; where: string }): string {
  const hf = asHfTokenizer(tok);
  if (!hf) {
    throw new BonsaiError(`"messages" need a chat template; the ${tok.kind} tokenizer has none`, {
      where: opts.where,
      hint: 'use a Hugging Face model (model.init.hf, tokenizer hf) whose tokenizer_config.json has a chat_template, or give {"prompt", "completion"} lines',
    });
  }
  try {
    return hf.applyChatTemplate(messages, { addGenerationPrompt: opts.addGenerationPrompt });
  } catch (e) {
    if (!(e instanceof BonsaiError)) throw e;
    throw new BonsaiError(e.message, { where: opts.where, hint: e.hint, cause: e });
  }
}

/**
 * An SFT line's messages, split into the prompt (every turn before the last, with the
 * template's generation prompt) and the completion (the last, assistant turn, as the full
 * render continues the prompt). The loss then falls on the assistant's answer only.
 */
export function chatSegments(tok: Tokenizer, messages: ChatMessage[], where: string): { prompt: string; completion: string } {
  const last = messages[messages.length - 1]!;
  if (last.role !== 'assistant') {
    throw new BonsaiError(`the last message is "${last.role}", but a training line's last message must be the assistant's answer (the loss falls on it)`, { where });
  }
  const prompt = messages.length > 1 ? renderChat(tok, messages.slice(0, -1), { addGenerationPrompt: true, where }) : '';
  const full = renderChat(tok, messages, { addGenerationPrompt: false, where });
  if (!full.startsWith(prompt)) {
    throw new BonsaiError('the chat template renders the conversation so that it does not begin with the render of its earlier turns; cannot tell the answer apart', { where });
  }
  return { prompt, completion: full.slice(prompt.length) };
}
