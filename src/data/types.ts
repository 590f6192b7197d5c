/**
 * The shapes that flow from data files to the trainer. Kept in one place so the loader,
 * the batcher and the trainer agree on what a position and a mask mean.
 */

/**
 * One training sequence of fixed length L+1 (L = seqLen). Position t is a target when
 * `lossMask[t] === 1`: the loss includes predicting `ids[t]` from `ids[<t]`. So
 * `lossMask[0]` is always 0 (nothing comes before it), and padding is id 0 with mask 0.
 */
export interface Example {
  /** Token ids, padded with 0. */
  ids: Int32Array; // [L+1]
  /** 1 where predicting ids[t] counts towards the loss. */
  lossMask: Uint8Array; // [L+1]
}

/**
 * A batch of B sequences of T = seqLen positions, flattened row-major so it can go
 * straight into `tf.tensor2d(x, [B, T])`. Row b, column t predicts `targets[b*T+t]`
 * from `inputs[b*T .. b*T+t]`.
 */
export interface Batch {
  inputs: Int32Array; // [B*T]  ids[0..T)
  targets: Int32Array; // [B*T] ids[1..T]
  /** 1 where the target counts, else 0; a weighted mean over these is the loss. */
  weights: Float32Array; // [B*T] lossMask[1..T]
  batchSize: number;
  seqLen: number;
  /** Number of targets with weight 1 (the loss denominator). */
  tokens: number;
}

/** Where a dataset lives and how to read it. */
export interface DatasetSource {
  /** `text`: one document, cut into windows. `jsonl`: one example per line. */
  format: 'text' | 'jsonl';
  path: string;
}

/** What loading found; the CLI prints it and the tracker logs it. */
export interface DatasetStats {
  file: string;
  /** Number of examples (windows for text, non-blank lines for JSONL). */
  examples: number;
  /** Tokens read, after tokenising and before truncation (EOS included for JSONL). */
  tokens: number;
  /** Targets with lossMask 1 across all examples: what the model is trained on. */
  targets: number;
  /** JSONL examples cut to seqLen+1 tokens (always 0 for text). */
  truncated: number;
}

/** A loaded dataset. */
export interface Dataset {
  examples: Example[];
  stats: DatasetStats;
}
