/**
 * The component registry, in one list: every concept whose recipe entries are chosen by
 * `kind`, with its kind table. Each table lives with its concept (src/gradients/kinds.ts,
 * src/rewards/kinds.ts, ...): adding a kind is adding one entry there (schema + check) and
 * one builder in the concept's builder table, which the compiler asks for. The recipe
 * schema, the JSON Schema, error messages, `--set` path checks and the validation pass
 * (recipe/check.ts) all follow from the tables. docs/components.md walks through it.
 */
import { freezeKinds } from '../gradients/freeze-kinds.ts';
import { interventionKinds } from '../gradients/intervention-kinds.ts';
import { gradientKinds } from '../gradients/kinds.ts';
import { loraKinds } from '../lora/kinds.ts';
import { initKinds } from '../models/init-kinds.ts';
import { tokenizerKinds } from '../models/tokenizer.ts';
import { probeKinds } from '../probes/kinds.ts';
import { rewardKinds } from '../rewards/kinds.ts';
import { trackerKinds } from '../tracking/kinds.ts';
import { optimizerKinds, scheduleKinds } from '../trainer/kinds/optimizer.ts';
import { rlLossKinds } from '../trainer/kinds/rl-loss.ts';
import { trainerKinds } from '../trainer/kinds/trainer.ts';
import { jobKinds } from './jobs.ts';

export { trainerKinds, gradientKinds };

/** Every component concept and its kinds, by the name docs and errors use. */
export const componentRegistry = {
  job: jobKinds,
  'model init': initKinds,
  tokenizer: tokenizerKinds,
  trainer: trainerKinds,
  optimizer: optimizerKinds,
  schedule: scheduleKinds,
  'rl loss': rlLossKinds,
  reward: rewardKinds,
  'probe kind': probeKinds,
  'gradient transform': gradientKinds,
  'freeze selector': freezeKinds,
  intervention: interventionKinds,
  lora: loraKinds,
  tracker: trackerKinds,
} as const;
