import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash } from '../../core/index.ts';
import {
  EdgeAgent,
  RESYNC_BASE_MS,
  resolveAgentConfig,
  type SyncEvent,
} from '../../edge-agent/index.ts';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';
import { eventually } from '../support/eventually.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { FakeOrigin, snapshotEntry } from './fake-origin.ts';

const EPOCH = 'epoch-1';

/** How long the agent is left with an origin whose snapshots never match. */
const FAILING_FOR_MS = 2_000;

/**
 * Most snapshot requests full-jitter backoff lets through in FAILING_FOR_MS: even if every draw
 * were as short as it gets, far fewer; without backoff the agent asks hundreds of times.
 */
const MOST_REQUESTS = 12;

describe('an agent whose snapshots keep failing their hash check', () => {
  let origin: FakeOrigin;
  let agent: EdgeAgent;
  let dir: TempDir;
  const events: SyncEvent[] = [];

  const read = async (key: string) => {
    const response = await fetch(`http://127.0.0.1:${agent.port}/v1/tenants/acme/entries/${key}`);
    return { status: response.status, body: await response.json() };
  };

  /** A snapshot of acme at `revision` whose one entry's hash belongs to another value. */
  const corruptSnapshot = async (revision: number) => {
    origin.send({
      type: 'snapshot',
      tenant: 'acme',
      epoch: EPOCH,
      revision,
      chunk: 0,
      entries: [{ ...(await snapshotEntry('k', 'tampered', revision)), hash: 'f'.repeat(64) }],
      last: true,
    });
  };

  beforeEach(async () => {
    events.length = 0;
    origin = await FakeOrigin.start();
    dir = makeTempDir('lcm-agent-resync');
    agent = await EdgeAgent.start(
      resolveAgentConfig(
        { origin: origin.url, token: 't', tenants: 'acme', port: 0, data: dir.path },
        {},
      ),
    );
    agent.onSyncEvent((event) => events.push(event));
    await origin.waitFor((m) => m.type === 'hello');
    origin.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
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
      entries: [await snapshotEntry('k', 'v1', 1)],
      last: true,
    });
    await eventually(async () => expect((await read('k')).body).toBe('v1'));
  });

  afterEach(async () => {
    origin.onReceive = undefined;
    await agent.stop();
    await origin.close();
    dir.remove();
  });

  const resyncRequests = () => origin.received.filter((m) => m.type === 'resync').length;

  it('asks again with growing, jittered waits, and keeps serving its previous data', async () => {
    origin.onReceive = (message) => {
      // The agent may stop while a reply is on its way; that reply is dropped.
      if (message.type === 'resync') corruptSnapshot(2).catch(() => {});
    };
    await corruptSnapshot(2);
    await new Promise((resolve) => setTimeout(resolve, FAILING_FOR_MS));

    const requests = resyncRequests();
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(requests).toBeLessThanOrEqual(MOST_REQUESTS);
    expect((await read('k')).body).toBe('v1');

    // One resync event per request, each waiting no longer than its step's ceiling.
    const resyncEvents = events.filter((e) => e.type === 'resync');
    expect(resyncEvents.length).toBe(requests);
    for (const [step, event] of resyncEvents.entries()) {
      expect(event.attempt).toBe(step);
      if (step === 0) expect(event.delayMs).toBe(0);
      else expect(event.delayMs).toBeLessThan(RESYNC_BASE_MS * 2 ** (step - 1));
    }
  });

  it('asks at once again after a snapshot applies: a success resets the backoff', async () => {
    origin.onReceive = (message) => {
      // The agent may stop while a reply is on its way; that reply is dropped.
      if (message.type === 'resync') corruptSnapshot(2).catch(() => {});
    };
    await corruptSnapshot(2);
    await eventually(() => expect(resyncRequests()).toBeGreaterThanOrEqual(3));

    origin.onReceive = undefined;
    origin.send({
      type: 'snapshot',
      tenant: 'acme',
      epoch: EPOCH,
      revision: 3,
      chunk: 0,
      entries: [await snapshotEntry('k', 'v3', 3)],
      last: true,
    });
    await eventually(async () => expect((await read('k')).body).toBe('v3'));
    const before = resyncRequests();

    origin.send({
      type: 'delta',
      epoch: EPOCH,
      commits: [
        {
          tenant: 'acme',
          revision: 4,
          at: Date.now(),
          changes: [
            { key: 'k', op: 'put', kind: 'config', value: 'v4', hash: await contentHash('v5') },
          ],
        },
      ],
    });
    await eventually(() => expect(resyncRequests()).toBe(before + 1), 1_000);
    const last = events.filter((e) => e.type === 'resync').at(-1);
    expect(last).toMatchObject({ attempt: 0, delayMs: 0 });
    expect((await read('k')).body).toBe('v3');
  });
});
