import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import {
  agentStatus,
  agentTokenFor,
  eventually,
  metricValue,
  readEntry,
  waitForRevision,
} from './fixture.ts';

const TENANT = 'acme';
const MULTI_KEY_COMMITS = 20;

describe('one origin process and two agent processes', () => {
  let origin: OriginProcess;
  let agents: AgentProcess[] = [];
  let api: ReturnType<typeof originApi>;
  let token: string;

  beforeAll(async () => {
    origin = await startOriginProcess();
    api = originApi(origin);
    token = await agentTokenFor(origin, [TENANT]);
    agents = await Promise.all(
      [0, 1].map(() => startAgentProcess({ origin: origin.url, token, tenants: [TENANT] })),
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.dispose()));
    await origin?.dispose();
  });

  it('makes a write at the origin readable at both agents', async () => {
    const written = await api('PUT', `/v1/tenants/${TENANT}/entries/routers/prod`, {
      body: { model: 'llama-3-70b', weight: 0.7 },
    });
    expect(written.status).toBe(200);
    const committedAt = performance.now();

    const delays = await Promise.all(
      agents.map(async (agent) => {
        await eventually(
          async () => {
            const read = await readEntry(agent.url, TENANT, 'routers/prod');
            expect(read.status).toBe(200);
            expect(read.body).toEqual({ model: 'llama-3-70b', weight: 0.7 });
          },
          15_000,
          2,
        );
        return performance.now() - committedAt;
      }),
    );
    console.info(
      `propagation of the first write (incl. initial sync): ${delays.map((d) => d.toFixed(1)).join(' ms, ')} ms`,
    );

    const patched = await api('PATCH', `/v1/tenants/${TENANT}/entries/routers/prod`, {
      raw: JSON.stringify([{ op: 'replace', path: '/weight', value: 0.9 }]),
      type: 'application/json-patch+json',
    });
    expect(patched.status).toBe(200);
    const patchedAt = performance.now();
    const patchDelays = await Promise.all(
      agents.map(async (agent) => {
        await eventually(
          async () =>
            expect((await readEntry(agent.url, TENANT, 'routers/prod')).body).toEqual({
              model: 'llama-3-70b',
              weight: 0.9,
            }),
          5_000,
          1,
        );
        return performance.now() - patchedAt;
      }),
    );
    console.info(
      `propagation of a patch to two agents: ${patchDelays.map((d) => d.toFixed(1)).join(' ms, ')} ms`,
    );
  });

  it('shows a multi-key commit all at once: a reader never sees one key new and one old', async () => {
    const commit = (n: number) =>
      api('POST', `/v1/tenants/${TENANT}/commits`, {
        body: {
          changes: [
            { op: 'put', key: 'pair/a', value: { n } },
            { op: 'put', key: 'pair/b', value: { n } },
          ],
        },
      });
    expect((await commit(0)).status).toBe(200);

    let writing = true;
    let observations = 0;
    const readers = agents.map(async (agent) => {
      while (writing) {
        const listing = (await (
          await fetch(`${agent.url}/v1/tenants/${TENANT}/entries?prefix=pair/`)
        ).json()) as {
          items: Array<{ key: string; revision: number }>;
        };
        if (listing.items.length === 2) {
          expect(listing.items[0]!.revision).toBe(listing.items[1]!.revision);
        }
        const [a, b] = await Promise.all([
          readEntry(agent.url, TENANT, 'pair/a'),
          readEntry(agent.url, TENANT, 'pair/b'),
        ]);
        if (a.status === 200 && b.status === 200 && a.revision === b.revision) {
          expect(a.body).toEqual(b.body);
          expect(a.etag).toBe(b.etag);
          observations++;
        }
      }
    });

    for (let n = 1; n <= MULTI_KEY_COMMITS; n++) expect((await commit(n)).status).toBe(200);
    const tenantInfo = await api('GET', `/v1/tenants/${TENANT}`);
    const head = (tenantInfo.body as { headRevision: number }).headRevision;
    await Promise.all(agents.map((agent) => waitForRevision(agent, TENANT, head)));
    writing = false;
    await Promise.all(readers);

    expect(observations).toBeGreaterThan(0);
    for (const agent of agents) {
      expect((await readEntry(agent.url, TENANT, 'pair/a')).body).toEqual({ n: MULTI_KEY_COMMITS });
      expect((await readEntry(agent.url, TENANT, 'pair/b')).body).toEqual({ n: MULTI_KEY_COMMITS });
    }
  });

  it('serves reads with ETag, revision and staleness headers, 304, watch, events and 405', async () => {
    const agent = agents[0]!;
    const first = await readEntry(agent.url, TENANT, 'routers/prod');
    expect(first.etag).toMatch(/^"\d+"$/);
    expect(first.stalenessMs).toBe(0);
    const again = await fetch(`${agent.url}/v1/tenants/${TENANT}/entries/routers/prod`, {
      headers: { 'if-none-match': first.etag! },
    });
    expect(again.status).toBe(304);

    const held = (await agentStatus(agent)).tenants[TENANT]!.revision;
    const events = await fetch(`${agent.url}/v1/tenants/${TENANT}/events?prefix=watched/`);
    const watch = fetch(
      `${agent.url}/v1/tenants/${TENANT}/watch/watched/key?after=${held}&timeout_ms=10000`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await api('PUT', `/v1/tenants/${TENANT}/entries/watched/key`, { body: 'hello' });
    const watched = await watch;
    expect(watched.status).toBe(200);
    expect(await watched.json()).toBe('hello');

    const reader = events.body!.getReader();
    let sse = '';
    while (!sse.includes('watched/key'))
      sse += new TextDecoder().decode((await reader.read()).value);
    expect(sse).toMatch(/event: put/);
    await reader.cancel();

    const quiet = await fetch(
      `${agent.url}/v1/tenants/${TENANT}/watch/watched/key?after=${held + 1000}&timeout_ms=100`,
    );
    expect(quiet.status).toBe(304);

    const write = await fetch(`${agent.url}/v1/tenants/${TENANT}/entries/x`, {
      method: 'PUT',
      body: '1',
    });
    expect(write.status).toBe(405);
    expect(((await write.json()) as { error: { message: string } }).error.message).toContain(
      origin.url,
    );

    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    expect(
      metricValue(metrics, 'lcm_agent_applied_revision', `tenant="${TENANT}"`),
    ).toBeGreaterThan(0);
    expect(metrics).toContain('lcm_agent_read_duration_seconds_bucket');

    const listed = await api('GET', '/v1/agents');
    const statuses = listed.body as Array<{
      tenants: Record<string, { appliedRevision: number; lagRevisions: number }>;
      bytesSent: number;
    }>;
    expect(statuses).toHaveLength(2);
    for (const status of statuses) {
      expect(status.bytesSent).toBeGreaterThan(0);
      expect(status.tenants[TENANT]!.appliedRevision).toBeGreaterThan(0);
    }
  });

  it('keeps serving its last values when restarted with the origin stopped, then catches up without a snapshot', async () => {
    const [live, restarted] = agents as [AgentProcess, AgentProcess];
    await restarted.stop();
    for (let n = 0; n < 3; n++) {
      await api('PUT', `/v1/tenants/${TENANT}/entries/while-away`, { body: { n } });
    }
    const head = ((await api('GET', `/v1/tenants/${TENANT}`)).body as { headRevision: number })
      .headRevision;
    await waitForRevision(live, TENANT, head);
    const before = await readEntry(live.url, TENANT, 'routers/prod');

    await origin.stop();
    await restarted.restart();
    const offline = await readEntry(restarted.url, TENANT, 'routers/prod');
    expect(offline.status).toBe(200);
    expect(offline.body).toEqual(before.body);
    expect(offline.stalenessMs).toBeGreaterThan(0);
    expect((await readEntry(restarted.url, TENANT, 'while-away')).status).toBe(404);

    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = await readEntry(restarted.url, TENANT, 'routers/prod');
    expect(later.stalenessMs).toBeGreaterThan(offline.stalenessMs);
    const liveOffline = await eventually(async () => {
      const read = await readEntry(live.url, TENANT, 'routers/prod');
      expect(read.stalenessMs).toBeGreaterThan(0);
      return read;
    });
    expect(liveOffline.body).toEqual(before.body);
    const strict = await readEntry(restarted.url, TENANT, 'routers/prod?max_staleness_ms=1');
    expect(strict.status).toBe(503);
    expect((strict.body as { error: { code: string } }).error.code).toBe('stale');
    expect((await agentStatus(restarted)).connected).toBe(false);

    // The origin said goodbye with a reconnect hint, which the live agent waited out at least.
    const lost = live.logRecords().find((record) => record.msg === 'origin lost');
    expect(lost?.retryInMs).toBeGreaterThanOrEqual(500);

    await origin.restart();
    await Promise.all(agents.map((agent) => waitForRevision(agent, TENANT, head, 40_000)));
    expect((await readEntry(restarted.url, TENANT, 'while-away')).body).toEqual({ n: 2 });
    await eventually(
      async () =>
        expect((await readEntry(restarted.url, TENANT, 'routers/prod')).stalenessMs).toBe(0),
      40_000,
    );

    const originMetrics = (await api('GET', '/metrics')).text;
    expect(
      metricValue(originMetrics, 'lcm_replication_snapshots_sent_total', `tenant="${TENANT}"`),
    ).toBe(0);
    const agentMetrics = await (await fetch(`${restarted.url}/metrics`)).text();
    expect(metricValue(agentMetrics, 'lcm_agent_snapshots_total', `tenant="${TENANT}"`)).toBe(0);
    expect(restarted.logRecords().filter((r) => r.msg === 'snapshot')).toHaveLength(1);
  });
});
