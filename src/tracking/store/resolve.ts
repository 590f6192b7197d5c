import { BonsaiError } from '../../errors.ts';
import type { RunSummary } from './types.ts';

/** How a candidate is shown in an error: short id, name, experiment. */
function describe(r: RunSummary): string {
  return `${r.id.slice(0, 8)}  ${r.name || '(no name)'}  [${r.experimentName}]`;
}

/**
 * Finds the run a user means by `query`: a full run id, a unique id prefix, or a run name.
 * An exact id wins over everything; then a prefix; then a name. None, or more than one,
 * is a BonsaiError that lists the candidates, so the user can pick a longer prefix.
 */
export function resolveRun(runs: RunSummary[], query: string): RunSummary {
  const q = query.trim();
  if (q === '') throw new BonsaiError('empty run name or id');
  const exact = runs.find((r) => r.id === q.toLowerCase());
  if (exact) return exact;
  const byPrefix = /^[0-9a-f]+$/i.test(q) ? runs.filter((r) => r.id.startsWith(q.toLowerCase())) : [];
  const byName = runs.filter((r) => r.name === q);
  const matches = byPrefix.length > 0 ? byPrefix : byName;
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new BonsaiError(`"${q}" matches ${matches.length} runs:\n${matches.slice(0, 20).map((r) => `  ${describe(r)}`).join('\n')}`, {
      hint: 'give a longer id prefix (see `bonsai runs list`)',
    });
  }
  const near = runs.filter((r) => r.name.toLowerCase().includes(q.toLowerCase())).slice(0, 10);
  throw new BonsaiError(`no run matches "${q}"` + (near.length ? `; runs with similar names:\n${near.map((r) => `  ${describe(r)}`).join('\n')}` : ''), {
    hint: runs.length ? 'use a run id, a unique id prefix, or a run name from `bonsai runs list`' : 'the store has no runs yet; pass --store DIR if they are elsewhere',
  });
}
