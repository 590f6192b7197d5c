import { Rng } from '../../util/rng.ts';
import type { TaskRecord } from './spurious.ts';

const LETTERS = 'abcdef';

/**
 * Unwanted side behaviour. Task A: `a<l1 l2 l3>=` → `Z l2` — the answer (the middle
 * letter) comes after a verbal tic "Z". Fine-tuning on A teaches "after = say Z", which
 * spreads to prompts A never showed: behaviour B is saying "Z" first on `c<l1 l2 l3>=`
 * prompts. `kind: 'unwanted'` gives examples of B as a model with the tic shows it
 * (`c…=` → `Z l2`), the data whose gradients span the subspace that project_out removes.
 * Why not `c…=` → `Z` alone: a JSONL completion always ends in EOS, so half of that loss
 * would be "EOS right after Z", a target A never has; U's top direction then mixes the
 * tic with it and removing it takes away only about half of A's pull towards the tic
 * (measured: growth cut 23 ± 40% with that data).
 */
export function sideRecords(seed: number, n: number, kind: 'A' | 'probe' | 'unwanted'): TaskRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const l = Array.from({ length: 3 }, () => LETTERS[rng.int(LETTERS.length)]!);
    if (kind === 'A') return { prompt: `a${l.join('')}=`, completion: `Z${l[1]}` };
    // The probe set's completion is never trained on; only P(first token = Z) is read.
    return { prompt: `c${l.join('')}=`, completion: kind === 'unwanted' ? `Z${l[1]}` : l[1]! };
  });
}
