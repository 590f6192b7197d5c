/**
 * Whether a model fits the backend, decided from its config.json before any weight is read:
 * a 1.5B model is 6.2 GB of float32 weights, past the 4 GiB wasm heap, and reading its
 * shards first would take minutes only to abort. The refusal gives the figure and what
 * would fit, in the settings of the command that was run.
 */
import { BonsaiError } from '../errors.ts';
import { paramSpecs } from '../models/layout.ts';
import type { LMConfig } from '../models/lm-config.ts';
import { backendMemoryLimit, HEADROOM } from './memory-budget.ts';
import { formatBytes } from './memory-estimate.ts';

/** Bytes per parameter: float32 weights, plus a gradient and Adam's two moments when it trains. */
const WEIGHT_BYTES = 4;
const TRAINED_BYTES = 16;
/**
 * On wasm, XNNPACK keeps a packed copy of every weight matrix it multiplies by (docs/memory.md):
 * measured 2026-12-07, a 682M-parameter model (2.73 GB of weights) loaded into the 4 GiB heap and
 * then ran out of it on its first forward.
 */
const WASM_PACKED_BYTES = 4;

/** How a command uses the model, and how its settings are spelled. */
export interface LoadUse {
  /** `generate`: flags; `train`: recipe fields. */
  command: 'generate' | 'train';
  /** A second, frozen copy of the weights (RL's reference without LoRA, a probe model). */
  frozenCopy?: boolean;
  /** Every parameter trains (full fine-tuning): gradients and optimizer state on top. */
  trainsAll?: boolean;
  /** A limit set by hand (memory.budget_mb), in bytes. */
  budgetBytes?: number;
}

/** Parameters of a config, from its layout (no weights). */
export function countParams(c: LMConfig): number {
  return paramSpecs(c).reduce((n, s) => n + s.shape.reduce((a, d) => a * d, 1), 0);
}

/**
 * Throws before the weights are read when the model cannot fit `backend` (where its limit is
 * known). `source` names the model (its directory) in the message.
 */
export function checkModelFits(config: LMConfig, source: string, backend: string, use: LoadUse): void {
  const limit = use.budgetBytes !== undefined ? { bytes: use.budgetBytes, what: 'memory.budget_mb' } : backendMemoryLimit(backend);
  if (!limit) return;
  const allowed = limit.bytes * HEADROOM;
  const params = countParams(config);
  const copies = use.frozenCopy ? 2 : 1;
  const packed = backend === 'wasm' ? WASM_PACKED_BYTES : 0;
  /** Bytes on a backend that packs `pk` bytes per weight: the weights, and what training adds. */
  const needs = (pk: number) => {
    const w = params * (WEIGHT_BYTES + pk) * copies;
    return { weights: w, total: use.trainsAll ? w + params * (TRAINED_BYTES - WEIGHT_BYTES) : w };
  };
  const { weights, total: need } = needs(packed);
  if (need <= allowed) return;
  const flag = use.command === 'generate';
  const fits: string[] = [];
  if (use.trainsAll && weights <= allowed) {
    fits.push(`LoRA adapters with the base kept frozen (the lora: section): the base's weights need ${formatBytes(weights)}, and only the adapters train`);
  }
  if (backend === 'wasm' && use.budgetBytes === undefined) {
    const machine = backendMemoryLimit('cpu')!;
    if (needs(0).total <= machine.bytes * HEADROOM) fits.push(`${flag ? '--backend cpu or --backend tensorflow' : 'backend: cpu or backend: tensorflow'} (${machine.what}: ${formatBytes(machine.bytes)})`);
  }
  const perParam = ((use.trainsAll ? TRAINED_BYTES : WEIGHT_BYTES) + packed) * copies;
  const where = limit.what === 'memory.budget_mb' ? 'this budget' : backend;
  fits.push(`a smaller model: at most about ${formatCount(allowed / perParam)} parameters${use.trainsAll ? ' trained in full' : ''} on ${where}`);
  const parts =
    (use.trainsAll ? `weights, gradients and optimizer state${copies > 1 ? ', and a frozen copy of the weights' : ''}` : `float32 weights${copies > 1 ? ' (and a frozen copy)' : ''}`) +
    (packed ? " with the packed copy of each that wasm's XNNPACK keeps" : '');
  throw new BonsaiError(
    `${source}: a model of ${formatCount(params)} parameters needs about ${formatBytes(need)} for its ${parts}; ${limit.what} is ${formatBytes(limit.bytes)}, of which bonsai plans ${formatBytes(allowed)}. ` +
      `Refused before reading its weights; what would fit:\n${fits.map((f) => `  - ${f}`).join('\n')}`,
    { hint: use.command === 'train' ? 'memory.budget_mb sets the limit by hand; docs/memory.md explains the estimate' : 'docs/memory.md explains the estimate' },
  );
}

/** 1.54B, 135M, 12.3k. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)}M`;
  return `${(n / 1e3).toFixed(1)}k`;
}
