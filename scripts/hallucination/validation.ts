// Hallucination world: the VALIDATION split, for choosing an intervention's threshold (or an RL
// checkpoint) without reading the test entities:
//   - validation unseen entities: the probe pool's 128 (world.probeUnknown). The base never saw
//     them, RL never prompts with them, and they are disjoint from the 128 eval-only unseen
//     entities the tables report;
//   - validation known entities: the 32 known entities the entity probe trains on (every other
//     one; hallucination.ts's entityProbeHeldOutKnown keeps the rest out). The tables report
//     all 64 and, separately, the 32 never used here (testOnlyKnown).
import { entityProbeHeldOutKnown, type World } from '../../src/data/tasks/hallucination.ts';

/** The validation split: probe-pool unseen entities and the 32 known ones the entity probe trains on. */
export function validationWorld(world: World): World {
  const held = new Set(entityProbeHeldOutKnown(world));
  return { ...world, known: world.known.filter((e) => !held.has(e)), evalUnknown: world.probeUnknown };
}

/** The 32 known entities validation never reads (world.known less the validation ones), and no unseen ones. */
export const testOnlyKnown = (world: World): World => ({ ...world, known: entityProbeHeldOutKnown(world), evalUnknown: [] });
