import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { DEFAULT_VALUE_LIMITS } from '../../core/index.ts';
import { OriginStore } from '../../origin/index.ts';
import {
  attachReplication,
  type HubSettings,
  type ReplicationHub,
} from '../../origin/replication/index.ts';
import { FrameCodec, type Message, PROTOCOL_VERSION } from '../../protocol/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** Token the harness accepts, as an agent of tenant `acme`. */
export const HARNESS_AGENT_TOKEN = 'harness-agent-token';

/**
 * A replication hub in this process, on a real origin store (a temporary libSQL file) and a
 * real HTTP server on loopback, with settings a test chooses (short heartbeats, small buffers).
 */
export async function startHub(settings: Partial<HubSettings> = {}) {
  const dir = makeTempDir('lcm-hub');
  const store = await OriginStore.open({
    url: `file:${dir.path}/origin.db`,
    limits: DEFAULT_VALUE_LIMITS,
    busyTimeoutMs: 5_000,
    maxCommitsPerTransaction: 64,
    retention: { revisions: 0, ageMs: 0 },
  });
  await store.createTenant('acme');
  const server: Server = createServer((_request, response) => {
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const registry = new Registry();
  const hub: ReplicationHub = attachReplication({
    server,
    store,
    authenticate: async (token) =>
      token === HARNESS_AGENT_TOKEN
        ? { tokenId: 'harness', role: 'agent', tenants: ['acme'] }
        : null,
    logger: pino({ level: 'silent' }),
    registry,
    settings,
  });

  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    hub,
    registry,
    /** Commits `value` at `key` of tenant acme. */
    put: (key: string, value: unknown) =>
      store.commit('acme', [{ op: 'put', key, value: value as never }], { actor: 'test' }),
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
      dir.remove();
    },
  };
}

/** A raw protocol client: a real WebSocket that records every decoded frame. */
export async function rawClient(url: string, token = HARNESS_AGENT_TOKEN) {
  const codec = new FrameCodec();
  const socket = new WebSocket(`${url}/v1/replicate`, {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  const received: Message[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  socket.on('message', (data: Buffer) => received.push(codec.decode(data)));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
    );
  });

  return {
    socket,
    received,
    closed,
    send: (message: Message) => socket.send(codec.encode(message)),
    sendBytes: (bytes: Uint8Array) => socket.send(bytes),
    hello: (
      tenants = [{ tenant: 'acme', revision: 0, epoch: null as string | null }],
      agentId = 'raw-client',
    ) =>
      socket.send(
        codec.encode({
          type: 'hello',
          protocolVersions: [PROTOCOL_VERSION],
          agentId,
          agentPublicKey: null,
          tenants,
        }),
      ),
  };
}
