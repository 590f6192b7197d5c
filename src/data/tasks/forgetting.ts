import { Rng } from '../../util/rng.ts';
import type { TaskRecord } from './spurious.ts';

const LETTERS = 'abcdef';

/**
 * Forgetting: two copy tasks on the same letters that need different answers, so learning
 * one by the shared route overwrites the other. Task A: `p<l1 l2 l3>=` → l2 (the middle
 * letter). Task B: `q<l1 l2 l3>+` → l3 (the last). A model that does A is fine-tuned on B only.
 *
 * Both answer with the same letters, so B does not just push a new answer vocabulary over
 * A's. B is asked with its own query token `+` (A never sees it): the cheapest way to learn
 * B moves the attention that A's `=` query shares (positions, W_Q, W_K), which forgets A;
 * with A's circuit held fixed, B can still be learnt through parameters A never used (the
 * `+` embedding), so freezing can keep A without blocking B.
 */
export function forgettingRecords(seed: number, n: number, task: 'A' | 'B'): TaskRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const l = Array.from({ length: 3 }, () => LETTERS[rng.int(LETTERS.length)]!);
    return task === 'A' ? { prompt: `p${l.join('')}=`, completion: l[1]! } : { prompt: `q${l.join('')}+`, completion: l[2]! };
  });
}
