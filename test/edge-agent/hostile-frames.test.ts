import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash } from '../../core/index.ts';
import { EdgeAgent, resolveAgentConfig } from '../../edge-agent/index.ts';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';
import { eventually } from '../support/eventually.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { FakeOrigin, snapshotEntry } from './fake-origin.ts';

const EPOCH = 'epoch-1';
const loosePackr = new Packr({ useRecords: false, mapsAsObjects: true });

describe('the agent facing hostile frames from its origin', () => {
  let origin: FakeOrigin;
  let agent: EdgeAgent;
  let dir: TempDir;

  const read = async (key: string) => {
    const response = await fetch(`http://127.0.0.1:${agent.port}/v1/tenants/acme/entries/${key}`);
    return { status: response.status, body: await response.json() };
  };

  /** Connects, welcomes with a snapshot of acme at revision 1: {k: 'v1'}. */
  beforeEach(async () => {
    origin = await FakeOrigin.start();
    dir = makeTempDir('lcm-agent-hostile');
    agent = await EdgeAgent.start(
      resolveAgentConfig(
        { origin: origin.url, token: 't', tenants: 'acme,beta,gamma', port: 0, data: dir.path },
        {},
      ),
    );
    await origin.waitFor((m) => m.type === 'hello');
    origin.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      epoch: EPOCH,
      heartbeatTimeoutMs: 30_000,
      tenants: [
        { tenant: 'acme', mode: 'snapshot', headRevision: 1 },
        { tenant: 'beta', mode: 'snapshot', headRevision: 0 },
      ],
    });
    origin.send({
      type: 'snapshot',
      tenant: 'acme',
      epoch: EPOCH,
      revision: 1,
      chunk: 0,
      entries: [await snapshotEntry('k', 'v1', 1)],
      last: true,
    });
    origin.send({
      type: 'snapshot',
      tenant: 'beta',
      epoch: EPOCH,
      revision: 0,
      chunk: 0,
      entries: [],
      last: true,
    });
    await eventually(async () => expect((await read('k')).body).toBe('v1'));
  });

  afterEach(async () => {
    await agent.stop();
    await origin.close();
    dir.remove();
  });

  const resyncs = () => origin.received.filter((m) => m.type === 'resync').length;

  const recoversBySnapshot = async () => {
    await origin.waitFor((m) => m.type === 'resync' && m.tenant === 'acme');
    origin.send({
      type: 'snapshot',
      tenant: 'acme',
      epoch: EPOCH,
      revision: 5,
      chunk: 0,
      entries: [await snapshotEntry('k', 'v5', 5)],
      last: true,
    });
    await eventually(async () => expect((await read('k')).body).toBe('v5'));
  };

  it('rejects random bytes, keeps serving, and recovers by snapshot', async () => {
    origin.sendBytes(new Uint8Array([0xc1, 0x00, 0xff, 0x13, 0x37]));
    await origin.waitFor((m) => m.type === 'error' && m.code === 'protocol_error');
    expect((await read('k')).body).toBe('v1');
    await recoversBySnapshot();
  });

  it('rejects truncated msgpack and a 2^32 length header', async () => {
    const frame = origin.codec.encode({ type: 'ping', at: 1 });
    origin.sendBytes(frame.subarray(0, frame.length - 2));
    origin.sendBytes(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]));
    await eventually(() =>
      expect(origin.received.filter((m) => m.type === 'error').length).toBeGreaterThanOrEqual(2),
    );
    expect((await read('k')).body).toBe('v1');
  });

  it('rejects a delta with wrong field types without applying it', async () => {
    origin.sendBytes(
      loosePackr.pack({
        type: 'delta',
        epoch: EPOCH,
        commits: [{ tenant: 'acme', revision: '2' }],
      }),
    );
    await origin.waitFor((m) => m.type === 'error');
    expect((await read('k')).body).toBe('v1');
  });

  it('rejects a delta for a tenant it does not replicate, applying no part of the frame', async () => {
    const hash = await contentHash('v2');
    origin.send({
      type: 'delta',
      epoch: EPOCH,
      commits: [
        {
          tenant: 'acme',
          revision: 2,
          at: Date.now(),
          changes: [{ key: 'k', op: 'put', kind: 'config', value: 'v2', hash }],
        },
        {
          tenant: 'other',
          revision: 1,
          at: Date.now(),
          changes: [{ key: 'k', op: 'put', kind: 'config', value: 'v2', hash }],
        },
      ],
    });
    await origin.waitFor((m) => m.type === 'error' && /not replicated/.test(m.message));
    expect((await read('k')).body).toBe('v1');
    const status = (await (await fetch(`http://127.0.0.1:${agent.port}/v1/status`)).json()) as {
      tenants: Record<string, { revision: number }>;
    };
    expect(status.tenants.acme?.revision).toBe(1);
  });

  it('does not apply a delta that skips a revision, and asks for a snapshot', async () => {
    origin.send({
      type: 'delta',
      epoch: EPOCH,
      commits: [
        {
          tenant: 'acme',
          revision: 3,
          at: Date.now(),
          changes: [
            { key: 'k', op: 'put', kind: 'config', value: 'v3', hash: await contentHash('v3') },
          ],
        },
      ],
    });
    await recoversBySnapshot();
  });

  it('does not apply a delta whose hash does not match, and asks for a snapshot', async () => {
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
              key: 'k',
              op: 'patch',
              kind: 'config',
              patch: [{ op: 'replace', path: '', value: 'evil' }],
              hash: await contentHash('v2'),
            },
          ],
        },
      ],
    });
    await origin.waitFor((m) => m.type === 'resync');
    expect((await read('k')).body).toBe('v1');
    await recoversBySnapshot();
  });

  it('applies a valid patch delta and acknowledges it', async () => {
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
              key: 'obj',
              op: 'put',
              kind: 'config',
              patch: [{ op: 'replace', path: '', value: { a: 1 } }],
              hash: await contentHash({ a: 1 }),
            },
          ],
        },
        {
          tenant: 'acme',
          revision: 3,
          at: Date.now(),
          changes: [
            {
              key: 'obj',
              op: 'patch',
              kind: 'config',
              patch: [{ op: 'add', path: '/b', value: [2] }],
              hash: await contentHash({ a: 1, b: [2] }),
            },
          ],
        },
      ],
    });
    await eventually(async () => expect((await read('obj')).body).toEqual({ a: 1, b: [2] }));
    await origin.waitFor((m) => m.type === 'ack' && m.tenants.some((t) => t.revision === 3));
    expect(resyncs()).toBe(0);
  });

  it('refuses a welcome of an unknown protocol version with a clear error', async () => {
    origin.sendBytes(
      loosePackr.pack({
        type: 'welcome',
        protocolVersion: 99,
        epoch: EPOCH,
        heartbeatTimeoutMs: 1,
        tenants: [],
      }),
    );
    const error = await origin.waitFor(
      (m) => m.type === 'error' && m.code === 'unsupported_version',
    );
    expect(error.type === 'error' && error.message).toMatch(/version 99 is not supported/);
    expect((await read('k')).body).toBe('v1');
  });

  it('refuses a snapshot chunk out of order and asks again', async () => {
    origin.send({
      type: 'snapshot',
      tenant: 'acme',
      epoch: EPOCH,
      revision: 4,
      chunk: 3,
      entries: [],
      last: true,
    });
    await recoversBySnapshot();
  });

  it('answers 503 not_synced for a tenant it holds nothing of, 404 for an absent key', async () => {
    const unsynced = await fetch(`http://127.0.0.1:${agent.port}/v1/tenants/gamma/entries/k`);
    expect(unsynced.status).toBe(503);
    expect(((await unsynced.json()) as { error: { code: string } }).error.code).toBe('not_synced');
    const empty = await fetch(`http://127.0.0.1:${agent.port}/v1/tenants/beta/entries/k`);
    expect(empty.status).toBe(404);
    expect((await read('absent')).status).toBe(404);
  });

  it('closes a silent connection after the heartbeat timeout and reconnects', async () => {
    origin.send({
      type: 'welcome',
      protocolVersion: 1,
      epoch: EPOCH,
      heartbeatTimeoutMs: 300,
      tenants: [],
    });
    await eventually(() => expect(origin.connections).toBeGreaterThanOrEqual(2), 5_000);
  });
});
