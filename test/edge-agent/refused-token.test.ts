import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeAgent, resolveAgentConfig, type SyncEvent } from '../../edge-agent/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

describe('an agent whose token the origin refuses', () => {
  const server = createServer((_request, response) => {
    response.statusCode = 401;
    response.end('{"error":{"code":"unauthorized","message":"no"}}');
  });
  let agent: EdgeAgent;
  let dir: TempDir;
  const events: SyncEvent[] = [];

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = makeTempDir('lcm-refused');
    const port = (server.address() as AddressInfo).port;
    agent = await EdgeAgent.start(
      resolveAgentConfig(
        {
          origin: `ws://127.0.0.1:${port}`,
          token: 'revoked',
          tenants: 'acme',
          port: 0,
          data: dir.path,
        },
        {},
      ),
    );
    agent.onSyncEvent((event) => events.push(event));
  });

  afterAll(async () => {
    await agent.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  });

  it('reports unauthorized, keeps serving, and waits at least 5 s before trying again', async () => {
    const deadline = Date.now() + 5_000;
    while (!events.some((e) => e.type === 'disconnected') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'origin-error', code: 'unauthorized' }),
    );
    const disconnected = events.find((e) => e.type === 'disconnected');
    expect(disconnected?.type === 'disconnected' && disconnected.retryInMs).toBeGreaterThanOrEqual(
      5_000,
    );
    const status = await fetch(`http://127.0.0.1:${agent.port}/v1/status`);
    expect(((await status.json()) as { connected: boolean }).connected).toBe(false);
  });
});
