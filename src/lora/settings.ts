/**
 * LoRA's numbers, shared by the recipe section, the adapters and the PEFT files: the scale
 * of the update and the init bound, written from PEFT's published definition (LoraLayer).
 */

/** The recipe's `lora:` section, parsed (kinds.ts). */
export interface LoraSettings {
  /** Rank of every adapter bonsai creates. */
  r: number;
  /** Scale numerator: the update is (alpha / r)·B·A, or (alpha / √r)·B·A with rslora. */
  alpha: number;
  /** Dropout probability on the adapter's input during training passes (see adapters.ts). */
  dropout: number;
  /** Parameter-path globs (`blocks.*.attn.W_Q`): the weights that get an adapter. */
  targets: string[];
  /** Rank-stabilised scaling alpha/√r (Kalajdzievski 2023; PEFT's `use_rslora`). */
  rslora: boolean;
  /** A PEFT adapter directory (adapter_config.json + adapter_model.safetensors) to start from. */
  from?: string;
}

/** PEFT's scaling: lora_alpha / r, or lora_alpha / √r when use_rslora. */
export function loraScale(alpha: number, r: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/**
 * The bound of lora_A's uniform init. PEFT calls kaiming_uniform_(A, a=√5) on A [r, in]:
 * gain √(2/(1+a²)) = √(1/3), bound = gain·√(3/fan_in) = 1/√in.
 */
export function kaimingUniformBound(inDim: number): number {
  return 1 / Math.sqrt(inDim);
}

/**
 * Parameters that can carry an adapter: every matrix a linear layer multiplies by
 * (x·W, W [in, out]), not the embedding tables, which are looked up rather than multiplied
 * (PEFT adapts them with a different layer bonsai does not write).
 */
export function isLoraTargetable(path: string, shape: readonly number[]): boolean {
  return shape.length === 2 && path !== 'embed.W_E' && path !== 'pos_embed.W_pos';
}
