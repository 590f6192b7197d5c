/**
 * The PII world's two template families. `train` is what probes learn from; `eval` differs in
 * everything a shift from synthetic to real text would change: other name pools, other
 * formats for every kind, other sentence frames (chat-like, headers, lower case). Each slot
 * `{kind}` in a template is filled by that family's generator for the kind.
 */
import type { Rng } from '../../util/rng.ts';

/** The kinds of personal data a span can be. */
export const PII_KINDS = ['name', 'email', 'phone', 'address', 'account'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** The two families: train (probe training data) and eval (the shifted evaluation set). */
export type PiiFamily = 'train' | 'eval';

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.int(10)).join('');

export const TRAIN_FIRST = ['Alice', 'Brian', 'Clara', 'David', 'Emma', 'Frank', 'Grace', 'Henry', 'Irene', 'James', 'Karen', 'Louis', 'Maria', 'Nathan', 'Olivia', 'Peter'];
export const TRAIN_LAST = ['Smith', 'Jones', 'Brown', 'Taylor', 'Wilson', 'Evans', 'Thomas', 'Walker', 'Wright', 'Hughes', 'Green', 'Hall', 'Wood', 'Clarke'];
const EVAL_FIRST = ['Yusuf', 'Mei', 'Ravi', 'Ingrid', 'Tomas', 'Amara', 'Kenji', 'Zofia', 'Diego', 'Leila', 'Sven', 'Priya'];
const EVAL_LAST = ['Okafor', 'Nakamura', 'Kowalski', 'Haddad', 'Lindqvist', 'Moreau', 'Castillo', 'Ivanova', 'Mensah', 'Reyes'];
export const TRAIN_STREETS = ['Oak Street', 'Mill Road', 'High Street', 'Park Lane', 'Church Road', 'Station Road'];
const EVAL_STREETS = ['Maple Ave', 'Elm Rd', 'Birch Blvd', 'Cedar Ct', 'Willow Way'];

/** Train-family generators: one format per kind. */
const TRAIN_FILL: Record<PiiKind, (rng: Rng) => string> = {
  name: (rng) => `${pick(rng, TRAIN_FIRST)} ${pick(rng, TRAIN_LAST)}`,
  email: (rng) => `${pick(rng, TRAIN_FIRST).toLowerCase()}.${pick(rng, TRAIN_LAST).toLowerCase()}@${pick(rng, ['example.com', 'mail.com', 'post.net'])}`,
  phone: (rng) => `${digits(rng, 3)}-${digits(rng, 3)}-${digits(rng, 4)}`,
  address: (rng) => `${1 + rng.int(99)} ${pick(rng, TRAIN_STREETS)}`,
  account: (rng) => `ACC-${digits(rng, 8)}`,
};

/** Eval-family generators: other pools and formats for every kind. */
const EVAL_FILL: Record<PiiKind, (rng: Rng) => string> = {
  name: (rng) => pick(rng, [`Dr. ${pick(rng, EVAL_FIRST)} ${pick(rng, EVAL_LAST)}`, `${pick(rng, EVAL_FIRST)} ${pick(rng, EVAL_LAST)}`, `${pick(rng, EVAL_FIRST)[0]}. ${pick(rng, EVAL_LAST)}`]),
  email: (rng) => `${pick(rng, EVAL_FIRST).toLowerCase()}_${pick(rng, EVAL_LAST).toLowerCase()}${digits(rng, 2)}@${pick(rng, ['inbox.org', 'corp.io'])}`,
  phone: (rng) => pick(rng, [`(${digits(rng, 3)}) ${digits(rng, 3)} ${digits(rng, 4)}`, `+1 ${digits(rng, 3)}.${digits(rng, 3)}.${digits(rng, 4)}`]),
  address: (rng) => pick(rng, [`Apt ${1 + rng.int(20)}, ${100 + rng.int(900)} ${pick(rng, EVAL_STREETS)}`, `${1000 + rng.int(9000)} N ${pick(rng, EVAL_STREETS)}`]),
  account: (rng) => pick(rng, [`${digits(rng, 4)}-${digits(rng, 4)}-${digits(rng, 4)}`, `#${digits(rng, 10)}`]),
};

/** Train-family frames: plain, well-formed service sentences. */
const TRAIN_TEMPLATES = [
  'Please contact {name} at {email} about the order.',
  'Call {name} on {phone} before noon.',
  'Ship the parcel to {name}, {address}.',
  'Refund sent to account {account} for {name}.',
  '{name} moved to {address}; the new phone is {phone}.',
  'Customer {name} ({email}) asked about account {account}.',
  'The invoice for {address} was paid from {account}.',
  'Our office opens at nine and closes at five.',
  'The order was shipped on Monday and should arrive soon.',
  'Thank you for your message; we will reply within two days.',
];

/** Eval-family frames: chat, headers, notes; lower case and other punctuation. */
const EVAL_TEMPLATES = [
  "hi, it's {name}. text me at {phone} pls",
  'From: {email}\nRe: late delivery',
  'deliver to: {address} (leave at door) - {name}',
  'my acct no is {account}, thx',
  'note: {name} says reach her via {email} or {phone}',
  'ticket #12 closed by agent; user {name}, acct {account}',
  'can u resend the link? same adress as before: {address}',
  'meeting moved to 3pm, bring the slides',
  'fyi the printer on floor 2 is broken again',
];

export const FAMILIES: Record<PiiFamily, { templates: string[]; fill: Record<PiiKind, (rng: Rng) => string> }> = {
  train: { templates: TRAIN_TEMPLATES, fill: TRAIN_FILL },
  eval: { templates: EVAL_TEMPLATES, fill: EVAL_FILL },
};
