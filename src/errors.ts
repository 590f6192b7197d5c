/**
 * Errors a user can act on. The CLI prints `message` (and `hint`) without a stack
 * trace; anything that is not a BonsaiError is a bug in bonsai and keeps its stack.
 */
export class BonsaiError extends Error {
  /** Where the problem is, e.g. `recipes/a.yaml:12:5` or `data/train.jsonl:7`. */
  readonly where?: string;
  /** What the user can do about it. */
  readonly hint?: string;

  constructor(message: string, opts: { where?: string; hint?: string; cause?: unknown } = {}) {
    super(opts.where ? `${opts.where}: ${message}` : message, { cause: opts.cause });
    this.name = 'BonsaiError';
    this.where = opts.where;
    this.hint = opts.hint;
  }
}

/** Several user errors found at once (e.g. every problem in a recipe). */
export class BonsaiErrors extends BonsaiError {
  readonly errors: BonsaiError[];
  constructor(title: string, errors: BonsaiError[]) {
    super(`${title}\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'BonsaiErrors';
    this.errors = errors;
  }
}
