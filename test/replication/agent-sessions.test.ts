import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../protocol/index.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { agentTokenFor, eventually } from './fixture.ts';
import { rawClient } from './hub-harness.ts';

type AgentRow = { agentId: string; tenants: Record<string, { appliedRevision: number }> };

describe('agent sessions at the origin (real origin process, raw WebSocket)', () => {
  let origin: OriginProcess;
  let api: ReturnType<typeof originApi>;
  let token: string;
  let wsUrl: string;

  beforeAll(async () => {
    origin = await startOriginProcess();
    api = originApi(origin);
    token = await agentTokenFor(origin, ['acme']);
    wsUrl = origin.url.replace('http:', 'ws:');
    expect((await api('PUT', '/v1/tenants/acme/entries/k', { body: 'v1' })).status).toBe(200);
  });

  afterAll(async () => {
    await origin?.dispose();
  });

  const agents = async () => (await api('GET', '/v1/agents')).body as AgentRow[];
  const snapshotDone = (received: Message[]) =>
    received.some((m) => m.type === 'snapshot' && m.last);

  it('takes an ack of what it sent, and refuses an ack beyond it as a protocol error', async () => {
    const client = await rawClient(wsUrl, token);
    client.hello([{ tenant: 'acme', revision: 0, epoch: null }], 'acking-agent');
    await eventually(() => expect(snapshotDone(client.received)).toBe(true));

    client.send({ type: 'ack', tenants: [{ tenant: 'acme', revision: 1 }] });
    await eventually(async () =>
      expect((await agents())[0]?.tenants.acme?.appliedRevision).toBe(1),
    );

    client.send({ type: 'ack', tenants: [{ tenant: 'acme', revision: 10 ** 12 }] });
    const { code } = await client.closed;
    expect(code).toBe(1008);
    expect(client.received).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'protocol_error' }),
    );
    // The close reaches the client before the origin has dropped the session: wait for it.
    await eventually(async () => expect(await agents()).toEqual([]));
  });

  it('does not show a hello cursor it could not resume as applied', async () => {
    const client = await rawClient(wsUrl, token);
    client.hello([{ tenant: 'acme', revision: 10 ** 12, epoch: 'made-up' }], 'boasting-agent');
    await eventually(() => expect(snapshotDone(client.received)).toBe(true));
    const [row] = await agents();
    expect(row?.tenants.acme?.appliedRevision).toBe(0);
    client.socket.close();
    await client.closed;
  });

  it('replaces an older connection of the same agent id with the newer one', async () => {
    const older = await rawClient(wsUrl, token);
    older.hello([{ tenant: 'acme', revision: 0, epoch: null }], 'twin');
    await eventually(() => expect(snapshotDone(older.received)).toBe(true));

    const newer = await rawClient(wsUrl, token);
    newer.hello([{ tenant: 'acme', revision: 0, epoch: null }], 'twin');
    const { code } = await older.closed;
    expect(code).toBe(1008);
    expect(older.received).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'conflict' }),
    );
    await eventually(() => expect(snapshotDone(newer.received)).toBe(true));
    const listed = await agents();
    expect(listed.map((agent) => agent.agentId)).toEqual(['twin']);

    // The newer connection is the live one: a write reaches it.
    expect((await api('PUT', '/v1/tenants/acme/entries/k', { body: 'v2' })).status).toBe(200);
    await eventually(() => expect(newer.received.some((m) => m.type === 'delta')).toBe(true));
    newer.socket.close();
    await newer.closed;
  });
});
