import { Rng } from '../../util/rng.ts';
import type { TaskRecord } from './spurious.ts';

const LETTERS = 'abcdef';

/**
 * Unwanted side behaviour. Task A: `a<l1 l2 l3>=` → `Z l2` — the answer (the middle
 * letter) comes after a verbal tic "Z". Fine-tuning on A teaches "after = say Z", which
 * spreads to prompts A never showed: behaviour B is saying "Z" first on `c<l1 l2 l3>=`
 * prompts. `kind: 'unwanted'` gives examples of B (`c…=` → `Z`), the data whose gradients
 * span the subspace that project_out removes.
 */
export function sideRecords(seed: number, n: number, kind: 'A' | 'probe' | 'unwanted'): TaskRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const l = Array.from({ length: 3 }, () => LETTERS[rng.int(LETTERS.length)]!);
    if (kind === 'A') return { prompt: `a${l.join('')}=`, completion: `Z${l[1]}` };
    // The probe set's completion is never trained on; only P(first token = Z) is read.
    return { prompt: `c${l.join('')}=`, completion: kind === 'unwanted' ? 'Z' : l[1]! };
  });
}
