/** A parameter glob (`blocks.*.attn.W_Q`) as a RegExp: `*` matches anything, dots included. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}
