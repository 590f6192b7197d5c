// Hallucination world: the VALIDATION split (what a rule may read to choose a threshold or an RL
// checkpoint) and the REPORTED split (what the tables report), disjoint:
//   - validation: the 32 known entities the entity probe trains on (every other one) and the
//     probe pool's 128 unseen entities (never in RL prompts);
//   - reported: the other 32 known entities (never read by a probe, a threshold or a rule) and
//     the 128 eval-only unseen entities.
// Both are written to data/hallucination/{validation,test}.jsonl as {prompt, completion?} rows
// (a known entity carries its colour, an unseen one none), the format RL prompts use.
import { answer, entityProbeHeldOutKnown, question, type World } from '../../src/data/tasks/hallucination.ts';

export type SplitName = 'validation' | 'reported';

/** The split's known and unseen entities. */
export function splitEntities(world: World, split: SplitName): { known: string[]; unseen: string[] } {
  const held = new Set(entityProbeHeldOutKnown(world));
  return split === 'reported'
    ? { known: world.known.filter((e) => held.has(e)), unseen: world.evalUnknown }
    : { known: world.known.filter((e) => !held.has(e)), unseen: world.probeUnknown };
}

/** The split as JSONL rows: known entities with their answer, unseen ones without. */
export function splitRows(world: World, split: SplitName): Array<{ prompt: string; completion?: string }> {
  const { known, unseen } = splitEntities(world, split);
  return [...known.map((e) => ({ prompt: question(e), completion: answer(world.colour.get(e)!) })), ...unseen.map((e) => ({ prompt: question(e) }))];
}

/** The world restricted to a split: its known entities, and its unseen ones as the entities asked about. */
export function splitWorld(world: World, split: SplitName): World {
  const { known, unseen } = splitEntities(world, split);
  return { ...world, known, evalUnknown: unseen };
}
