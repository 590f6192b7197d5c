// One colour per run, everywhere (table swatch, every chart, every panel): the n-th picked
// run gets the n-th colour. Colours chosen for ≥ 4.5:1 contrast on white (WCAG AA text).
export const PALETTE = ['#1f5fa8', '#c0392b', '#1e7b3a', '#a65b00', '#6a3d9a', '#8c564b', '#b5306f', '#0f7480', '#555555', '#6b6b00'];

/** The colour of run `id` among the picked runs `selected` (grey for an unpicked run). */
export function colorOf(selected, id) {
  const i = selected.indexOf(id);
  return i < 0 ? '#767676' : PALETTE[i % PALETTE.length];
}

/** `#rrggbb` at opacity `a`, for std bands. */
export function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}
