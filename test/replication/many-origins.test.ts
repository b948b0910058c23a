import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { agentTokenFor, eventually, metricValue, readEntry, waitForRevision } from './fixture.ts';

const TENANT = 'acme';

/** A peer's commit must reach the first origin's agents within this, with 500 ms polling. */
const PEER_COMMIT_WITHIN_MS = 5_000;

describe('two origin processes on one database', () => {
  let first: OriginProcess;
  let second: OriginProcess;
  let agent: AgentProcess;

  beforeAll(async () => {
    first = await startOriginProcess();
    const token = await agentTokenFor(first, [TENANT]);
    agent = await startAgentProcess({ origin: first.url, token, tenants: [TENANT] });
    second = await startOriginProcess({ dataDir: first.dataDir });
  }, 60_000);

  afterAll(async () => {
    await agent?.dispose();
    await second?.dispose();
    await first?.dispose();
  });

  it("streams the second origin's commits to the first origin's agent, in order, once", async () => {
    const viaFirst = originApi(first);
    const viaSecond = originApi(second);
    expect((await viaFirst('PUT', `/v1/tenants/${TENANT}/entries/k`, { body: 'v1' })).status).toBe(
      200,
    );
    await waitForRevision(agent, TENANT, 1);

    // Nothing is written through the first origin from here: only polling can bring these.
    expect((await viaSecond('PUT', `/v1/tenants/${TENANT}/entries/k`, { body: 'v2' })).status).toBe(
      200,
    );
    await eventually(
      async () => expect((await readEntry(agent.url, TENANT, 'k')).body).toBe('v2'),
      PEER_COMMIT_WITHIN_MS,
    );

    // Commits from both origins, interleaved, arrive gap-free: the agent never needs a snapshot.
    for (let n = 0; n < 10; n++) {
      const api = n % 2 === 0 ? viaSecond : viaFirst;
      const written = await api('PUT', `/v1/tenants/${TENANT}/entries/n${n}`, { body: n });
      expect(written.status).toBe(200);
    }
    await waitForRevision(agent, TENANT, 12, PEER_COMMIT_WITHIN_MS * 2);
    for (let n = 0; n < 10; n++) {
      expect((await readEntry(agent.url, TENANT, `n${n}`)).body).toBe(n);
    }
    expect(agent.logRecords().filter((record) => record.msg === 'resync')).toEqual([]);
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    expect(metricValue(metrics, 'lcm_replication_snapshots_sent_total', `tenant="${TENANT}"`)).toBe(
      1,
    );
  }, 60_000);
});
