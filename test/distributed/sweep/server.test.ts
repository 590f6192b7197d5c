/**
 * A sweep whose runs go to an MLflow server: the parent is created and closed over the
 * REST API, the points' `bonsai train` processes log to the server, and a re-run finds
 * the finished points through `runs/search`. The server is test/fakes/mlflow-server.ts
 * (MLflow's rules for writes) behind a small front that adds the two search endpoints it
 * lacks, answered from its records as MLflow shapes them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestRunStore } from '../../../src/tracking/store/index.ts';
import { planSweep } from '../../../src/distributed/sweep/plan.ts';
import { runSweep, sweepTrackingUri } from '../../../src/distributed/sweep/run.ts';
import { FakeMlflow, type FakeRun } from '../../fakes/mlflow-server.ts';
import { tempDir, writeTinyRecipe } from '../../helpers/recipes.ts';

/** A run as `runs/search` answers it: info, latest metrics, params and tags as key/value lists. */
function searchView(r: FakeRun) {
  const latest = new Map(r.metrics.map((m) => [m.key, m]));
  const kv = (m: Map<string, string>) => [...m].map(([key, value]) => ({ key, value }));
  return { info: r.info, data: { metrics: [...latest.values()], params: kv(r.params), tags: kv(r.tags) } };
}

/** The fake MLflow plus experiments/search and runs/search (one page); everything else is passed through. */
async function mlflowWithSearch(fake: FakeMlflow): Promise<Server> {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const path = new URL(req.url!, 'http://x').pathname;
    const json = (obj: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
    if (path.endsWith('/experiments/search')) return json({ experiments: [...fake.experiments.values()] });
    if (path.endsWith('/runs/search')) {
      const ids: string[] = JSON.parse(body).experiment_ids;
      return json({ runs: [...fake.runs.values()].filter((r) => ids.includes(r.info.experiment_id)).map(searchView) });
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<string, string>;
    const answer = await fetch(fake.url + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

describe('bonsai sweep with an MLflow server', () => {
  let fake: FakeMlflow;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    fake = await FakeMlflow.start();
    server = await mlflowWithSearch(fake);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await fake.close();
  });

  it('nests the points under a server-side parent, closes it FINISHED, and a re-run skips them', async () => {
    const file = writeTinyRecipe(tempDir(), { steps: 2 });
    const plan = planSweep(file, { grids: ['trainer.optimizer.lr=1e-2,3e-3'], sets: [`tracking.uri=${url}`] });
    const uri = sweepTrackingUri(plan);
    const lines: string[] = [];
    const first = await runSweep(plan, { store: new RestRunStore(uri), uri, write: (l) => lines.push(l) });
    expect(first.status).toBe('FINISHED');

    const runs = [...fake.runs.values()];
    const parent = runs.find((r) => r.tags.get('bonsai.sweep.role') === 'parent')!;
    expect(parent.info).toMatchObject({ run_id: first.parentRunId, run_name: 'tiny-sweep', status: 'FINISHED', end_time: expect.any(Number) });
    const children = runs.filter((r) => r.tags.get('mlflow.parentRunId') === parent.info.run_id);
    expect(children.map((c) => [c.info.status, c.tags.get('sweep.trainer.optimizer.lr'), c.params.get('trainer.optimizer.lr')]).sort()).toEqual([
      ['FINISHED', '0.003', '0.003'],
      ['FINISHED', '0.01', '0.01'],
    ]);
    expect(children.every((c) => c.metrics.some((m) => m.key === 'train/loss'))).toBe(true);

    const again: string[] = [];
    const second = await runSweep(plan, { store: new RestRunStore(uri), uri, write: (l) => again.push(l) });
    expect(second.parentRunId).toBe(parent.info.run_id);
    expect(again.filter((l) => / skipped \(finished in run [0-9a-f]{32}\)$/.test(l))).toHaveLength(2);
    expect(fake.runs.size).toBe(3);
  });
});
