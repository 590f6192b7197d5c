/**
 * Memorisation: a model learns a rule that generalises and, in the same run, memorises
 * random strings, so an edit that removes memorisation can be scored on both at once.
 *
 * - Rule: `r:<5 letters>=` → the letters shifted by one (a→b, …, z→a). Evaluated on
 *   strings never seen in training: the answer must come from the rule.
 * - Memorised: `m:<4-letter key>=` → a random 8-letter suffix. Each pair appears a fixed
 *   number of times in the training file; nothing but memory can produce the suffix.
 */
import { Rng } from '../../util/rng.ts';
import type { TaskRecord } from './spurious.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
/** Letters per rule string and per memorised suffix. */
const RULE_LEN = 5;
const SUFFIX_LEN = 8;
const KEY_LEN = 4;

/** The rule: every letter shifted by one, z wrapping to a. */
export function shiftByOne(s: string): string {
  return [...s].map((c) => ALPHABET[(ALPHABET.indexOf(c) + 1) % ALPHABET.length]!).join('');
}

const rulePrompt = (s: string) => `r:${s}=`;
const memoPrompt = (key: string) => `m:${key}=`;

/** The memorised pairs of one world: distinct keys, random suffixes. */
function memorisedPairs(seed: number, n: number): TaskRecord[] {
  const rng = new Rng(seed);
  const keys = new Set<string>();
  const word = (len: number) => Array.from({ length: len }, () => ALPHABET[rng.int(ALPHABET.length)]!).join('');
  while (keys.size < n) keys.add(word(KEY_LEN));
  return [...keys].map((key) => ({ prompt: memoPrompt(key), completion: word(SUFFIX_LEN) }));
}

/**
 * Rule instances. `exclude` holds strings that must not appear (the held-out set is drawn
 * first and excluded from training, so evaluation is on unseen instances).
 */
export function ruleRecords(seed: number, n: number, exclude: ReadonlySet<string> = new Set()): TaskRecord[] {
  const rng = new Rng(seed);
  const out: TaskRecord[] = [];
  while (out.length < n) {
    const s = Array.from({ length: RULE_LEN }, () => ALPHABET[rng.int(ALPHABET.length)]!).join('');
    if (exclude.has(s)) continue;
    out.push({ prompt: rulePrompt(s), completion: shiftByOne(s) });
  }
  return out;
}

/** The string a rule record was made from (`r:abcde=` → `abcde`). */
export const ruleSource = (r: TaskRecord) => r.prompt.slice(2, -1);

/** Sizes of one memorisation world. */
export interface MemorisationSizes {
  ruleTrain: number;
  ruleEval: number;
  memorised: number;
  /** Times each memorised pair appears in the training file. */
  repeats: number;
}

const DEFAULT_MEMORISATION_SIZES: MemorisationSizes = { ruleTrain: 4000, ruleEval: 300, memorised: 48, repeats: 24 };

/**
 * A whole world: training lines (rule instances and memorised pairs × repeats, shuffled),
 * held-out rule instances, and the memorised pairs themselves (for recall).
 */
export function memorisationWorld(seed: number, sizes: MemorisationSizes = DEFAULT_MEMORISATION_SIZES): { train: TaskRecord[]; ruleEval: TaskRecord[]; memorised: TaskRecord[] } {
  const ruleEval = ruleRecords(seed * 7 + 1, sizes.ruleEval);
  const held = new Set(ruleEval.map(ruleSource));
  const memorised = memorisedPairs(seed * 7 + 2, sizes.memorised);
  const train = [...ruleRecords(seed * 7 + 3, sizes.ruleTrain, held), ...memorised.flatMap((p) => Array.from({ length: sizes.repeats }, () => p))];
  const rng = new Rng(seed * 7 + 4);
  for (let i = train.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [train[i], train[j]] = [train[j]!, train[i]!];
  }
  return { train, ruleEval, memorised };
}
