import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DeltaMessage, Message } from '../../protocol/index.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { agentTokenFor, eventually } from './fixture.ts';
import { rawClient, startHub } from './hub-harness.ts';

const loosePackr = new Packr({ useRecords: false, mapsAsObjects: true });

function upgradeStatus(url: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/v1/replicate`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('error', reject);
  });
}

/** The HTTP answer to a refused upgrade: status, X-Request-Id and the parsed JSON body. */
function upgradeRefusal(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; requestIdHeader: unknown; body: unknown }>(
    (resolve, reject) => {
      const socket = new WebSocket(`${url}/v1/replicate`, { headers });
      socket.on('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            requestIdHeader: response.headers['x-request-id'],
            body: JSON.parse(text),
          }),
        );
      });
      socket.on('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('error', () => {});
    },
  );
}

describe('the origin hub facing hostile agents (real origin process, raw WebSocket)', () => {
  let origin: OriginProcess;
  let token: string;
  let wsUrl: string;

  beforeAll(async () => {
    origin = await startOriginProcess();
    token = await agentTokenFor(origin, ['acme']);
    wsUrl = origin.url.replace('http:', 'ws:');
  });

  afterAll(async () => {
    await origin?.dispose();
  });

  const expectStillServing = async () => {
    expect((await originApi(origin)('GET', '/healthz')).status).toBe(200);
    const client = await rawClient(wsUrl, token);
    client.hello();
    await eventually(() => expect(client.received.some((m) => m.type === 'welcome')).toBe(true));
    client.socket.close();
  };

  it('refuses an upgrade without a valid token (401) or with a reader token (403)', async () => {
    expect(await upgradeStatus(wsUrl)).toBe(401);
    expect(await upgradeStatus(wsUrl, 'lcm_bogus_token')).toBe(401);
    const reader = await originApi(origin)('POST', '/v1/tokens', {
      body: { role: 'reader', tenants: ['acme'] },
    });
    expect(await upgradeStatus(wsUrl, (reader.body as { token: string }).token)).toBe(403);
    const narrow = await originApi(origin)('POST', '/v1/tokens', {
      body: { role: 'agent', tenants: ['acme'], prefixes: ['public/'] },
    });
    expect(narrow.status).toBe(201);
    expect(await upgradeStatus(wsUrl, (narrow.body as { token: string }).token)).toBe(403);
  });

  it('answers a refused upgrade with the JSON error shape, a request id and X-Request-Id', async () => {
    const missing = await upgradeRefusal(wsUrl, {});
    expect(missing.status).toBe(401);
    const { error } = missing.body as { error: { code: string; requestId: string } };
    expect(error).toMatchObject({ code: 'unauthorized', message: expect.any(String) });
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.requestIdHeader).toBe(error.requestId);
    // The log line comes through the process's stdout, maybe after the answer.
    await eventually(() =>
      expect(origin.logRecords()).toContainEqual(
        expect.objectContaining({ msg: 'replication upgrade refused', requestId: error.requestId }),
      ),
    );

    const reader = await originApi(origin)('POST', '/v1/tokens', {
      body: { role: 'reader', tenants: ['acme'] },
    });
    const forbidden = await upgradeRefusal(wsUrl, {
      authorization: `Bearer ${(reader.body as { token: string }).token}`,
      'x-request-id': 'trace-42',
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      error: { code: 'forbidden', message: expect.any(String), requestId: 'trace-42' },
    });
    expect(forbidden.requestIdHeader).toBe('trace-42');
  });

  it.each([
    ['random bytes', new Uint8Array([0x13, 0xc1, 0xff, 0x00, 0x99])],
    ['byte 0xC1', new Uint8Array([0xc1])],
    ['truncated msgpack', new Uint8Array([0x82, 0xa4, 0x74, 0x79])],
    ['a 2^32 length header', new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61])],
    ['wrong field types', loosePackr.pack({ type: 'hello', protocolVersions: [1], agentId: 7 })],
  ])('answers %s with protocol_error and closes, and keeps serving', async (_name, bytes) => {
    const client = await rawClient(wsUrl, token);
    client.sendBytes(bytes);
    const { code } = await client.closed;
    expect(code).toBe(1008);
    expect(client.received).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'protocol_error' }),
    );
    await expectStillServing();
  });

  it('refuses an unknown protocol version with a clear error', async () => {
    const client = await rawClient(wsUrl, token);
    client.sendBytes(loosePackr.pack({ type: 'hello', protocolVersions: [42], future: true }));
    await client.closed;
    const error = client.received.find((m) => m.type === 'error') as Extract<
      Message,
      { type: 'error' }
    >;
    expect(error.code).toBe('unsupported_version');
    expect(error.message).toMatch(/protocol version 42 is not supported; this side speaks 1/);
  });

  it('refuses a tenant the token does not name', async () => {
    const client = await rawClient(wsUrl, token);
    client.hello([{ tenant: 'someone-else', revision: 0, epoch: null }]);
    await client.closed;
    expect(client.received).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'forbidden' }),
    );
  });

  it('closes a connection that sends a frame over the 16 MiB limit, and keeps serving', async () => {
    const client = await rawClient(wsUrl, token);
    client.sendBytes(new Uint8Array(16 * 1024 * 1024 + 1));
    const { code } = await client.closed;
    expect(code).toBe(1009);
    await expectStillServing();
  });
});

describe('the hub in process, with short heartbeats and small buffers', () => {
  it('closes a silent connection within the heartbeat timeout', async () => {
    const hub = await startHub({ heartbeatTimeoutMs: 300 });
    try {
      const client = await rawClient(hub.url);
      client.hello();
      await eventually(() => expect(hub.hub.agents()).toHaveLength(1));
      // Stop reading and answering: the hub hears nothing more from this agent.
      client.socket.pause();
      const started = Date.now();
      await eventually(() => expect(hub.hub.agents()).toHaveLength(0), 5_000);
      expect(Date.now() - started).toBeLessThan(1_500);
      client.socket.terminate();
    } finally {
      await hub.close();
    }
  });

  it('coalesces close commits into one frame and sends patches, not whole values', async () => {
    const hub = await startHub({ coalesceMs: 250 });
    try {
      const large = { models: Array.from({ length: 500 }, (_, i) => ({ id: `m${i}`, price: i })) };
      await hub.put('catalog', large);
      const client = await rawClient(hub.url);
      client.hello();
      await eventually(() => expect(client.received.some((m) => m.type === 'snapshot')).toBe(true));

      const bytesBefore = hub.hub.agents()[0]!.bytesSent;
      await Promise.all([
        hub.store.commit(
          'acme',
          [
            {
              op: 'patch',
              key: 'catalog',
              patch: [{ op: 'replace', path: '/models/3/price', value: 99 }],
            },
          ],
          { actor: 't' },
        ),
        hub.store.commit(
          'acme',
          [
            {
              op: 'patch',
              key: 'catalog',
              patch: [{ op: 'replace', path: '/models/4/price', value: 98 }],
            },
          ],
          { actor: 't' },
        ),
      ]);
      await eventually(() => {
        const deltas = client.received.filter((m): m is DeltaMessage => m.type === 'delta');
        expect(deltas.flatMap((d) => d.commits).map((c) => c.revision)).toEqual([2, 3]);
        expect(deltas).toHaveLength(1);
        expect(deltas[0]!.commits[0]!.changes[0]!.patch).toBeDefined();
      });
      expect(hub.hub.agents()[0]!.bytesSent - bytesBefore).toBeLessThan(
        JSON.stringify(large).length / 10,
      );
      client.socket.close();
    } finally {
      await hub.close();
    }
  });

  it('stops live frames to an agent that does not read, and catches it up from the log in order', async () => {
    const hub = await startHub({
      highWaterBytes: 64 * 1024,
      lowWaterBytes: 16 * 1024,
      coalesceMs: 1,
    });
    try {
      const client = await rawClient(hub.url);
      client.hello();
      await eventually(() => expect(client.received.some((m) => m.type === 'snapshot')).toBe(true));
      // Stop reading: the kernel buffers fill, then ws queues, then the hub must fall back.
      (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

      const value = 'v'.repeat(32 * 1024);
      for (let n = 0; n < 300; n++) await hub.put(`k${n % 10}`, `${n}-${value}`);
      const metrics = await hub.registry.metrics();
      expect(metrics).toMatch(/lcm_replication_slow_agent_fallbacks_total [1-9]/);

      (client.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      await eventually(() => {
        const revisions = client.received
          .filter((m): m is DeltaMessage => m.type === 'delta')
          .flatMap((d) => d.commits.map((c) => c.revision));
        expect(revisions).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      }, 20_000);
      // The raw client never acknowledges: its lag is the whole history, and it grows with time.
      const lag = await hub.registry.metrics();
      expect(lag).toContain(
        'lcm_replication_agent_lag_revisions{agent="raw-client",tenant="acme"} 300',
      );
      const lagSeconds =
        /lcm_replication_agent_lag_seconds\{agent="raw-client",tenant="acme"\} ([0-9.]+)/.exec(lag);
      expect(Number(lagSeconds?.[1])).toBeGreaterThan(0);
      client.socket.close();
    } finally {
      await hub.close();
    }
  });
});
