/**
 * A TypeScript client for `bonsai serve-reward`, for RL loops that run in another process
 * (or on another machine) than the model that scores them. Only `fetch`: no dependencies.
 *
 *   const client = new BonsaiRewardClient('http://127.0.0.1:8470');          // token: $BONSAI_REWARD_TOKEN
 *   const { rewards, by_reward } = await client.rewards([' blue\n'], { prompts: ['Q: sky?'], answers: ['blue'] });
 *   const { rewards: r } = await client.getReward(['Q: sky? blue'], { prompts: ['Q: sky?'] });  // OpenRLHF's shape
 *
 *   node bin/run-ts.js examples/reward-client.ts http://127.0.0.1:8470 "Q: sky?" " blue"
 *
 * A loop in the same process needs no server: see examples/custom-loop.ts. The Python
 * equivalent is examples/python/bonsai_client.py; the endpoints are in docs/reward-server.md.
 */

/** The server refused a request (4xx/5xx, with its message) or could not be reached (status 0). */
export class BonsaiRewardError extends Error {
  constructor(readonly status: number, message: string) {
    super(`bonsai reward server: ${status}: ${message}`);
  }
}

/** `POST /v1/rewards`'s answer. */
export interface RewardsAnswer {
  rewards: number[];
  by_reward: Record<string, number[]>;
  weights: Record<string, number>;
  metrics: Record<string, number>;
  tokens?: Array<{ ids: number[]; text: string[]; probes: Record<string, number[]> }>;
}

export class BonsaiRewardClient {
  private readonly url: string;

  constructor(
    url = 'http://127.0.0.1:8470',
    private readonly opts: { token?: string; timeoutMs?: number; retries?: number; chunkSize?: number } = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  health(): Promise<{ status: string }> {
    return this.request('GET', '/health');
  }

  /** The served model, its fingerprint, probes, rewards and limits. */
  info(): Promise<{ rewards: Array<{ name: string }> } & Record<string, unknown>> {
    return this.request('GET', '/v1/info');
  }

  /** bonsai's endpoint, split into chunks so a large rollout batch stays under the server's --max-batch. */
  async rewards(completions: string[], o: { prompts?: string[]; answers?: string[]; perToken?: boolean } = {}): Promise<RewardsAnswer> {
    const size = this.opts.chunkSize ?? 256;
    let out: RewardsAnswer | undefined;
    // At least one request, so an empty list gets the server's own error.
    for (let lo = 0; lo < Math.max(completions.length, 1); lo += size) {
      const part = await this.request<RewardsAnswer>('POST', '/v1/rewards', {
        completions: completions.slice(lo, lo + size),
        per_token: o.perToken ?? false,
        ...(o.prompts ? { prompts: o.prompts.slice(lo, lo + size) } : {}),
        ...(o.answers ? { answers: o.answers.slice(lo, lo + size) } : {}),
      });
      out = out ? merge(out, part) : part;
    }
    return out!;
  }

  /** OpenRLHF's endpoint: prompt + response queries → `{rewards, scores, extra_logs}`. */
  getReward(query: string[], o: { prompts?: string[]; labels?: string[] } = {}): Promise<{ rewards: number[]; scores: number[]; extra_logs: Record<string, number[]> }> {
    return this.request('POST', '/get_reward', { query, ...o });
  }

  /** One call; a 503 (busy) or a refused connection is retried with a growing pause, a 4xx never. */
  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.opts.token ?? process.env.BONSAI_REWARD_TOKEN;
    const headers: Record<string, string> = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.opts.timeoutMs ?? 180_000) });
      } catch (e) {
        if (attempt >= retries) throw new BonsaiRewardError(0, `cannot reach ${this.url}: ${(e as Error).cause ?? (e as Error).message}`);
        await pause(attempt);
        continue;
      }
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as T;
      if (res.status !== 503 || attempt >= retries) throw new BonsaiRewardError(res.status, errorMessage(text, res.statusText));
      await pause(attempt);
    }
  }
}

const pause = (attempt: number) => new Promise((r) => setTimeout(r, 500 * 2 ** attempt));

function errorMessage(text: string, fallback: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? fallback;
  } catch {
    return fallback;
  }
}

/** Joins two chunks' answers (metrics are the last chunk's). */
function merge(a: RewardsAnswer, b: RewardsAnswer): RewardsAnswer {
  return {
    ...b,
    rewards: [...a.rewards, ...b.rewards],
    by_reward: Object.fromEntries(Object.keys(a.by_reward).map((k) => [k, [...a.by_reward[k]!, ...b.by_reward[k]!]])),
    ...(a.tokens && b.tokens ? { tokens: [...a.tokens, ...b.tokens] } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, prompt, completion] = process.argv.slice(2);
  if (!url || completion === undefined) {
    console.error('usage: node bin/run-ts.js examples/reward-client.ts URL PROMPT COMPLETION');
    process.exit(2);
  }
  const answer = await new BonsaiRewardClient(url).rewards([completion], { prompts: [prompt!] });
  console.log(JSON.stringify({ rewards: answer.rewards, by_reward: answer.by_reward }));
}
