import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, type JsonValue } from '../../core/index.ts';
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

const TENANT = 'faults';
const ADMIN_TOKEN = 'admin-token-for-replication-fault-tests';
const MIB = 1024 * 1024;

async function headOf(api: ReturnType<typeof originApi>, tenant: string): Promise<number> {
  return ((await api('GET', `/v1/tenants/${tenant}`)).body as { headRevision: number })
    .headRevision;
}

/** Every entry the agent serves for `tenant`, checked against its listed hash. */
async function agentEntries(agent: AgentProcess, tenant: string) {
  const listing = (await (await fetch(`${agent.url}/v1/tenants/${tenant}/entries`)).json()) as {
    items: Array<{ key: string; revision: number; hash: string }>;
  };
  const entries = new Map<string, JsonValue>();
  for (const item of listing.items) {
    const read = await readEntry(agent.url, tenant, item.key);
    expect(await contentHash(read.body as JsonValue)).toBe(item.hash);
    entries.set(item.key, read.body as JsonValue);
  }
  return entries;
}

/** The replica file of a stopped agent, read directly: its cursor and checked values. */
async function readReplica(dataDir: string, tenant: string) {
  const client = createClient({ url: `file:${join(dataDir, 'replica.db')}` });
  try {
    const cursor = await client.execute({
      sql: 'SELECT revision FROM tenants WHERE tenant = ?',
      args: [tenant],
    });
    const rows = await client.execute({
      sql: 'SELECT value, hash FROM entries WHERE tenant = ?',
      args: [tenant],
    });
    const values: JsonValue[] = [];
    for (const row of rows.rows) {
      const value = JSON.parse(String(row.value)) as JsonValue;
      expect(await contentHash(value)).toBe(String(row.hash));
      values.push(value);
    }
    return { revision: Number(cursor.rows[0]?.revision ?? 0), values };
  } finally {
    client.close();
  }
}

describe('replication faults with real processes', () => {
  let origin: OriginProcess;
  let api: ReturnType<typeof originApi>;
  let token: string;
  const agents: AgentProcess[] = [];

  const startAgent = async (tenants = [TENANT], agentToken = token) => {
    const agent = await startAgentProcess({ origin: origin.url, token: agentToken, tenants });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    origin = await startOriginProcess({
      env: { LCM_ADMIN_TOKEN: ADMIN_TOKEN, LCM_RETAIN_REVISIONS: '2' },
    });
    api = originApi(origin);
    token = await agentTokenFor(origin, [TENANT]);
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.dispose()));
    await origin?.dispose();
  });

  it('sends a snapshot when compaction has passed the agent cursor, and the agent converges', async () => {
    await api('PUT', `/v1/tenants/${TENANT}/entries/compacted/a`, { body: 1 });
    const agent = await startAgent();
    await waitForRevision(agent, TENANT, await headOf(api, TENANT));
    await agent.stop();

    for (let n = 0; n < 6; n++) {
      await api('PUT', `/v1/tenants/${TENANT}/entries/compacted/a`, { body: n + 10 });
    }
    await api('DELETE', `/v1/tenants/${TENANT}/entries/compacted/a`);
    await api('PUT', `/v1/tenants/${TENANT}/entries/compacted/b`, { body: 'b' });
    const compacted = await api('POST', `/v1/tenants/${TENANT}/compact`);
    expect(compacted.status).toBe(200);
    const snapshotsBefore = metricValue(
      (await api('GET', '/metrics')).text,
      'lcm_replication_snapshots_sent_total',
      `tenant="${TENANT}"`,
    );

    await agent.restart();
    await waitForRevision(agent, TENANT, await headOf(api, TENANT));
    expect((await readEntry(agent.url, TENANT, 'compacted/a')).status).toBe(404);
    expect((await readEntry(agent.url, TENANT, 'compacted/b')).body).toBe('b');
    const snapshotsAfter = metricValue(
      (await api('GET', '/metrics')).text,
      'lcm_replication_snapshots_sent_total',
      `tenant="${TENANT}"`,
    );
    expect(snapshotsAfter).toBe(snapshotsBefore + 1);
    await agent.stop();
  });

  it('passes a 20 MiB snapshot through a 16 MiB frame limit in chunks, without reconnecting', async () => {
    const tenant = 'large';
    const largeToken = await agentTokenFor(origin, [tenant]);
    const blob = (seed: number) =>
      Array.from({ length: 5_400 }, (_, i) => `${seed}-${i}-`.padEnd(1000, 'x'));
    for (let n = 0; n < 4; n++) {
      const written = await api('PUT', `/v1/tenants/${tenant}/entries/blob/${n}`, {
        body: blob(n),
      });
      expect(written.status).toBe(200);
    }

    const agent = await startAgent([tenant], largeToken);
    await waitForRevision(agent, tenant, 4, 60_000);
    const read = await readEntry(agent.url, tenant, 'blob/3');
    expect(read.body).toEqual(blob(3));

    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    expect(
      metricValue(metrics, 'lcm_agent_frames_received_total', 'type="snapshot"'),
    ).toBeGreaterThan(1);
    expect(metricValue(metrics, 'lcm_agent_received_bytes_total')).toBeGreaterThan(20 * MIB);
    expect(metricValue(metrics, 'lcm_agent_reconnects_total')).toBe(0);
    expect(metricValue(metrics, 'lcm_agent_protocol_errors_total', 'code="too_large"')).toBe(0);
    await agent.stop();
  });

  it('restarts at exactly the old or the new revision after a SIGKILL while applying a large commit', async () => {
    const tenant = 'crash';
    const crashToken = await agentTokenFor(origin, [tenant]);
    const agent = await startAgent([tenant], crashToken);
    const keys = Array.from({ length: 200 }, (_, i) => `bulk/k${i}`);
    const commitAll = (round: number) =>
      api('POST', `/v1/tenants/${tenant}/commits`, {
        body: {
          changes: keys.map((key) => ({
            op: 'put',
            key,
            value: { round, pad: 'p'.repeat(20_000) },
          })),
        },
      });

    const outcomes: string[] = [];
    for (const [round, delayMs] of [100, 175, 250, 325].entries()) {
      await waitForRevision(agent, tenant, await headOf(api, tenant));
      const before = (await agentStatus(agent)).tenants[tenant]?.revision ?? 0;

      const committed = await commitAll(round);
      expect(committed.status).toBe(200);
      const after = (committed.body as { revision: number }).revision;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await agent.kill();

      const replica = await readReplica(agent.dataDir, tenant);
      expect([before, after]).toContain(replica.revision);
      outcomes.push(replica.revision === after ? 'new' : 'old');
      const rounds = new Set(replica.values.map((value) => (value as { round: number }).round));
      if (replica.revision === after) expect(rounds).toEqual(new Set([round]));
      else expect(rounds.has(round)).toBe(false);

      await agent.restart();
      await waitForRevision(agent, tenant, after);
      const served = await agentEntries(agent, tenant);
      expect(served.size).toBe(keys.length);
      expect(
        [...served.values()].every((value) => (value as { round: number }).round === round),
      ).toBe(true);
    }
    console.info(
      `replica revision after SIGKILL during a 200-key, 4 MB commit: ${outcomes.join(', ')}`,
    );
    await agent.stop();
  });

  it('resnapshots when the origin data is replaced by a store of another epoch', async () => {
    const tenant = 'epochs';
    await agentTokenFor(origin, [tenant]);
    for (let n = 0; n < 3; n++) {
      await api('PUT', `/v1/tenants/${tenant}/entries/old/${n}`, { body: `old-${n}` });
    }
    const agent = await startAgent([tenant], ADMIN_TOKEN);
    await waitForRevision(agent, tenant, 3);
    const oldEpoch = (await agentStatus(agent)).tenants[tenant]!.epoch;

    const port = origin.port;
    await origin.stop();
    const replacement = await startOriginProcess({
      env: { LCM_ADMIN_TOKEN: ADMIN_TOKEN },
      args: ['--port', String(port)],
    });
    try {
      const replacementApi = originApi(replacement);
      await agentTokenFor(replacement, [tenant]);
      for (let n = 0; n < 5; n++) {
        await replacementApi('PUT', `/v1/tenants/${tenant}/entries/new/${n}`, { body: `new-${n}` });
      }
      await eventually(async () => {
        const status = (await agentStatus(agent)).tenants[tenant]!;
        expect(status.epoch).not.toBe(oldEpoch);
        expect(status.revision).toBe(5);
      }, 40_000);
      const entries = await agentEntries(agent, tenant);
      expect([...entries.keys()].sort()).toEqual(['new/0', 'new/1', 'new/2', 'new/3', 'new/4']);
    } finally {
      await agent.stop();
      await replacement.dispose();
      await origin.restart();
    }
  });
});
