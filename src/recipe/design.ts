/**
 * Recipe sections for intentional design: circuit freezing and training-time
 * interventions. Their kinds live with their concept (gradients/freeze-kinds.ts,
 * gradients/intervention-kinds.ts); this re-exports the sections for the recipe schema.
 */
export { dataRefSchema } from './fields.ts';
export { freezeSchema, freezeSelectorSchema } from '../gradients/freeze-kinds.ts';
export { interventionsSchema } from '../gradients/intervention-kinds.ts';
