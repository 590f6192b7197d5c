import { Rng } from '../../util/rng.ts';
import type { TaskRecord } from './spurious.ts';

const LETTERS = 'abcdef';

/**
 * Forgetting: two copy tasks on the same inputs that need different answers, so learning
 * one overwrites the other. Task A: `p<l1 l2 l3>=` → l2 (the middle letter). Task B:
 * `q<l1 l2 l3>=` → l3 (the last). A model that does A is fine-tuned on B only.
 */
export function forgettingRecords(seed: number, n: number, task: 'A' | 'B'): TaskRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const l = Array.from({ length: 3 }, () => LETTERS[rng.int(LETTERS.length)]!);
    return { prompt: `${task === 'A' ? 'p' : 'q'}${l.join('')}=`, completion: task === 'A' ? l[1]! : l[2]! };
  });
}
