/**
 * The server never crashes on a request: a seeded generator sends a few hundred malformed
 * bodies (truncated JSON, wrong types, huge numbers, nested garbage, wrong content types,
 * bad UTF-8, oversize, over-limit batches) to both scoring endpoints; every answer must be
 * a 4xx with a JSON {error} message, and a valid request must still be served afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.ts';
import { useCpu } from '../helpers/tiny.ts';
import { post, serve, TEST_LIMITS, writeServeRecipe } from './fixture.ts';

interface Case {
  kind: string;
  body: string | Uint8Array;
  contentType?: string | null;
}

const enc = new TextEncoder();
const VALID = ['{"query":["Q: a? b"],"prompts":["Q: a?"],"labels":["b"]}', '{"completions":["x","yy"],"prompts":["p","q"],"per_token":true}'];

/** One malformed body of a randomly chosen kind. */
function malformed(rng: Rng): Case {
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)]!;
  const valid = pick(VALID);
  const garbage = (depth: number): unknown => {
    if (depth <= 0) return pick([1e308, -0, 42, true, null, [], {}]); // no strings: a list of strings could be a valid query
    return pick([() => [garbage(depth - 1)], () => ({ [pick(['query', 'a', '__proto__', ''])]: garbage(depth - 1) }), () => garbage(depth - 1)])();
  };
  const kinds: Array<() => Case> = [
    () => ({ kind: 'truncated', body: valid.slice(0, rng.int(valid.length)) }),
    () => ({ kind: 'wrong type', body: JSON.stringify(pick([{ query: pick([1, true, null, {}, 'a', [1], [['a']], [null], [{}]]) }, { completions: pick([7, 'x', [false], [[]]]) }, { query: ['a'], prompts: pick([1, 'a', [2], [null], ['a', 'b']]) }, { query: ['a'], labels: pick([[{}], [[1]], [true], {}, ['a', 'b']]) }, { completions: ['a'], per_token: pick([1, 'yes', null, []]) }, pick([[], 'x', 3, null, true])])) }),
    () => ({ kind: 'huge number', body: pick(['{"query":1e999}', '{"query":[1e999]}', `{"query":[${'9'.repeat(400)}]}`, '{"query":["a"],"labels":[1e999]}', '{"completions":["a"],"answers":[-1e999]}', '{"query":["a"],"prompts":[123456789012345678901234567890]}']) }),
    () => ({ kind: 'nested garbage', body: pick([JSON.stringify(garbage(2 + rng.int(6))), `{"query":${'['.repeat(2000 + rng.int(3000))}"a"${']'.repeat(2000)}`, `{"query":${'['.repeat(3000)}`, '{"completions":[{"a":{"b":[1,{"c":null}]}}]}']) }),
    () => ({ kind: 'wrong content-type', body: valid, contentType: pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'json', null, 'multipart/form-data; boundary=x']) }),
    () => {
      const bytes = Array.from(enc.encode(valid));
      const at = bytes.indexOf(0x22, bytes.indexOf(0x5b)) + 1; // inside the first string of the list
      bytes.splice(at, 0, ...pick([[0xff], [0xc3, 0x28], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]));
      return { kind: 'bad UTF-8', body: Uint8Array.from(bytes) };
    },
    () => ({ kind: 'oversize', body: `{"query":["${'a'.repeat(TEST_LIMITS.maxBodyBytes + rng.int(5000))}"]}` }),
    () => ({ kind: 'random bytes', body: Uint8Array.from({ length: 1 + rng.int(200) }, () => rng.int(256)) }),
    () => ({ kind: 'over limits', body: JSON.stringify(pick([{ query: Array(TEST_LIMITS.maxBatch + 1 + rng.int(50)).fill('a') }, { completions: ['z'.repeat(100 + rng.int(1000))] }, { query: ['abc'], prompts: ['nope'] }, { query: [] }, { completions: [], prompts: [] }, { completion: ['a'] }])) }),
  ];
  return pick(kinds)();
}

let s: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  await useCpu();
  s = await serve(writeServeRecipe());
});
afterAll(() => s.close());

describe('serve-reward fuzz', () => {
  it('answers 300 malformed requests with 4xx and a message, then still serves', async () => {
    const rng = new Rng(20261122);
    const seen = new Map<string, Set<number>>();
    for (let i = 0; i < 300; i++) {
      const c = malformed(rng);
      const path = rng.int(2) ? '/get_reward' : '/v1/rewards';
      const headers: Record<string, string> = c.contentType === null ? {} : { 'content-type': c.contentType ?? 'application/json' };
      const res = await fetch(`${s.srv.url}${path}`, { method: 'POST', headers, body: c.body });
      const text = await res.text();
      const where = `case ${i} (${c.kind}, ${path}): ${res.status} ${text.slice(0, 200)}`;
      expect(res.status >= 400 && res.status < 500, where).toBe(true);
      expect(typeof JSON.parse(text).error, where).toBe('string');
      seen.set(c.kind, (seen.get(c.kind) ?? new Set()).add(res.status));
    }
    expect(seen.size).toBe(9); // every kind was generated
    expect([...seen.get('oversize')!]).toEqual([413]);
    expect([...seen.get('wrong content-type')!]).toEqual([415]);
    expect([...seen.get('bad UTF-8')!]).toEqual([400]);
    const ok = await post(`${s.srv.url}/get_reward`, JSON.parse(VALID[0]!));
    expect(ok.status).toBe(200);
    expect(ok.json.rewards).toHaveLength(1);
    expect(s.scorer.stats.passes).toBe(1); // no malformed request reached the model
  });
});
