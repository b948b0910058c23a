import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, LcmError } from '../../core/index.ts';
import { ConfigClient, type ConfigRead } from '../../edge-agent/client/index.ts';
import { EdgeAgent, resolveAgentConfig } from '../../edge-agent/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { FakeOrigin, snapshotEntry } from './fake-origin.ts';

const EPOCH = 'client-epoch';

describe('ConfigClient against a real agent', () => {
  let origin: FakeOrigin;
  let agent: EdgeAgent;
  let dir: TempDir;
  let client: ConfigClient;
  const requests: string[] = [];

  beforeAll(async () => {
    origin = await FakeOrigin.start();
    dir = makeTempDir('lcm-client');
    agent = await EdgeAgent.start(
      resolveAgentConfig(
        { origin: origin.url, token: 't', tenants: 'acme,later', port: 0, data: dir.path },
        {},
      ),
    );
    await origin.waitFor((m) => m.type === 'hello');
    origin.send({
      type: 'welcome',
      protocolVersion: 1,
      epoch: EPOCH,
      heartbeatTimeoutMs: 30_000,
      tenants: [{ tenant: 'acme', mode: 'snapshot', headRevision: 1 }],
    });
    origin.send({
      type: 'snapshot',
      tenant: 'acme',
      epoch: EPOCH,
      revision: 1,
      chunk: 0,
      entries: [await snapshotEntry('router/weights', { a: 1 }, 1)],
      last: true,
    });
    client = new ConfigClient({
      baseUrl: `http://127.0.0.1:${agent.port}`,
      tenant: 'acme',
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        requests.push(`${response.status}`);
        return response;
      },
    });
    await origin.waitFor((m) => m.type === 'ack');
  });

  afterAll(async () => {
    await agent.stop();
    await origin.close();
    dir.remove();
  });

  it('gets a value, then answers from its ETag cache when the agent says 304', async () => {
    const first = await client.get('router/weights');
    expect(first).toMatchObject({
      value: { a: 1 },
      revision: 1,
      tenantRevision: 1,
      stalenessMs: 0,
    });
    const second = await client.get('router/weights');
    expect(second.value).toEqual({ a: 1 });
    expect(requests.slice(-2)).toEqual(['200', '304']);
  });

  it('throws typed errors with the agent code', async () => {
    await expect(client.get('missing')).rejects.toMatchObject({ code: 'not_found' });
    const unsynced = new ConfigClient({
      baseUrl: `http://127.0.0.1:${agent.port}`,
      tenant: 'later',
    });
    await expect(unsynced.get('x')).rejects.toBeInstanceOf(LcmError);
    await expect(unsynced.get('x')).rejects.toMatchObject({ code: 'not_synced' });
    const nowhere = new ConfigClient({ baseUrl: 'http://127.0.0.1:9', tenant: 'acme' });
    await expect(nowhere.get('x')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('calls a watch back with each new revision', async () => {
    const seen: Array<ConfigRead | null> = [];
    const watch = client.watch('router/weights', (read) => seen.push(read), { timeoutMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    origin.send({
      type: 'delta',
      epoch: EPOCH,
      commits: [
        {
          tenant: 'acme',
          revision: 2,
          at: Date.now(),
          changes: [
            {
              key: 'router/weights',
              op: 'patch',
              kind: 'config',
              patch: [{ op: 'replace', path: '/a', value: 2 }],
              hash: await contentHash({ a: 2 }),
            },
          ],
        },
      ],
    });
    const deadline = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    watch.stop();
    expect(seen[0]).toMatchObject({ value: { a: 2 }, revision: 2 });
  });
});
