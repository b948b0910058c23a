import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { connect } from 'nats';
import { canonicalJson, type JsonValue } from '../../core/index.ts';
import type { Benchmark } from '../context.ts';
import { startAgent } from '../ours/agent-process.ts';
import { OriginApi } from '../ours/origin-api.ts';
import { startOrigin } from '../ours/origin-process.ts';
import { startEtcd } from '../peers/etcd-server.ts';
import { startNats } from '../peers/nats-server.ts';
import { makeRow, type ResultRow } from '../result.ts';
import { ByteProxy } from '../support/byte-proxy.ts';
import { unpackCatalogHistory } from '../support/corpus.ts';
import { LOOPBACK } from '../support/net.ts';
import { waitFor } from '../support/processes.ts';

const TENANT = 'catalog';
const KEY = 'litellm/model-prices';
const NATS_BUCKET = 'catalog';
/** NATS refuses messages over 1 MB by default; the catalog reaches 1.1 MB. */
const NATS_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
const QUICK_VERSIONS = 40;
const DELIVERY_TIMEOUT_MS = 60_000;

interface Peer {
  name: string;
  put(text: string): Promise<void>;
  /** Resolves once the watcher has seen `count` values in all. */
  seen(count: number): Promise<void>;
  proxy: ByteProxy;
  close(): Promise<void>;
}

/** P4: bytes an agent receives over the catalog history, against full values. */
export const bytesOnTheWire: Benchmark = {
  id: 'p4',
  title: 'Bytes on the wire',
  how:
    'Every version of the real model catalog history (../shared/corpus/model-prices-history, ' +
    'LiteLLM prices, 313 KB to 1.1 MB) is written in order as one key, each write waiting until ' +
    'it is readable at one agent. A loopback relay between origin and agent counts every byte ' +
    'the agent receives (WebSocket handshake, frames, heartbeats). The same versions go to etcd ' +
    'and NATS KV, each with one watcher behind its own counting relay. "Full values" is the ' +
    'sum of the versions as compact JSON: what a watcher of any store that sends whole values, ' +
    'or our origin pushing whole values instead of patches (the naive design), has to receive. ' +
    'Then one field of the latest (about 1 MB) value is changed, and the bytes of that one ' +
    'change are counted the same way. Byte counts do not drift, so this is one run.',
  async run(context) {
    const files = await unpackCatalogHistory(
      context.corpusDir,
      path.join(context.tmpDir, 'catalog'),
      context.quick ? QUICK_VERSIONS : undefined,
    );
    const versions: string[] = [];
    for (const file of files)
      versions.push(JSON.stringify(JSON.parse(await readFile(file, 'utf8'))));
    context.log(`${versions.length} versions unpacked`);

    const origin = await startOrigin({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
    });
    const api = new OriginApi(origin.url, origin.adminToken);
    await api.createTenant(TENANT);
    const token = await api.createAgentToken([TENANT]);
    const originProxy = await ByteProxy.start(origin.port);
    const agent = await startAgent({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
      originWsUrl: `ws://${LOOPBACK}:${originProxy.port}`,
      token,
      tenants: [TENANT],
    });
    await waitFor(
      'the agent to connect',
      async () =>
        ((await (await fetch(`${agent.url}/v1/status`)).json()) as { connected: boolean })
          .connected,
      30_000,
      50,
    );

    const peers: Peer[] = [];
    if (context.peers) {
      peers.push(await etcdPeer(context.tmpDir), await natsPeer(context.tmpDir));
    }

    const agentHas = async (revision: number) => {
      const url = `${agent.url}/v1/tenants/${TENANT}/watch/${KEY}?after=${revision - 1}&timeout_ms=${DELIVERY_TIMEOUT_MS}`;
      const response = await fetch(url);
      const body = await response.text();
      if (response.status !== 200)
        throw new Error(`revision ${revision} not at the agent: ${response.status}`);
      return body;
    };

    const started = Date.now();
    let lastBody = '';
    let fullBytes = 0;
    for (const [index, text] of versions.entries()) {
      fullBytes += Buffer.byteLength(text);
      const revision = await api.put(TENANT, KEY, text);
      lastBody = await agentHas(revision);
      for (const peer of peers) {
        await peer.put(text);
        await peer.seen(index + 1);
      }
      if ((index + 1) % 50 === 0) context.log(`${index + 1}/${versions.length} versions`);
    }
    const replaySeconds = (Date.now() - started) / 1000;
    const exact = sameValue(lastBody, versions.at(-1)!);
    const ourHistoryBytes = originProxy.toClient;
    const peerHistoryBytes = peers.map((peer) => peer.proxy.toClient);

    // One field of the latest value: the first number found, changed by one unit in its last
    // digit, as a price correction would.
    const changed = changeOneField(versions.at(-1)!);
    const before = originProxy.toClient;
    const peerBefore = peers.map((peer) => peer.proxy.toClient);
    const revision = await api.put(TENANT, KEY, changed.text);
    const changedBody = await agentHas(revision);
    const ourOneFieldBytes = originProxy.toClient - before;
    const peerOneFieldBytes: number[] = [];
    for (const [index, peer] of peers.entries()) {
      await peer.put(changed.text);
      await peer.seen(versions.length + 1);
      peerOneFieldBytes.push(peer.proxy.toClient - peerBefore[index]!);
    }
    const changeFullBytes = Buffer.byteLength(changed.text);

    for (const peer of peers) await peer.close();
    await originProxy.close();

    const rows: ResultRow[] = [
      makeRow({
        metric: `bytes received per agent, ${versions.length} versions`,
        unit: 'bytes',
        ours: [ourHistoryBytes],
        peer: 'full values (naive design)',
        peerRuns: [fullBytes],
        goal: { on: 'ratio', op: '<=', target: 0.02, text: 'ratio ≤ 0.02' },
      }),
      ...peers.map((peer, index) =>
        makeRow({
          metric: `bytes received per watcher, ${versions.length} versions`,
          unit: 'bytes',
          ours: [ourHistoryBytes],
          peer: `${peer.name} watcher, on the wire`,
          peerRuns: [peerHistoryBytes[index]!],
        }),
      ),
      makeRow({
        metric: `one-field change of a ${(changeFullBytes / 1e6).toFixed(2)} MB value`,
        unit: 'bytes',
        ours: [ourOneFieldBytes],
        peer: 'full value (naive design)',
        peerRuns: [changeFullBytes],
        goal: { on: 'ours', op: '<=', target: 1000, text: '≤ 1 kB' },
      }),
      ...peers.map((peer, index) =>
        makeRow({
          metric: 'one-field change, per watcher',
          unit: 'bytes',
          ours: [ourOneFieldBytes],
          peer: `${peer.name} watcher, on the wire`,
          peerRuns: [peerOneFieldBytes[index]!],
        }),
      ),
    ];
    const notes = [
      `${versions.length} versions replayed in ${replaySeconds.toFixed(1)} s; full values are ` +
        'counted as compact JSON (the corpus files are pretty-printed and 20% larger).',
      `The changed field: ${changed.pointer}.`,
      exact && sameValue(changedBody, changed.text)
        ? 'The agent held exactly the last version, and exactly the changed value, at the end.'
        : 'MISMATCH: the value at the agent differs from the one written.',
    ];
    if (context.quick) notes.push(`Quick run: the first ${QUICK_VERSIONS} versions only.`);
    if (context.peers) {
      notes.push(
        `NATS started with max_payload ${NATS_MAX_PAYLOAD_BYTES} bytes (default 1 MB) to hold the catalog.`,
      );
    }
    return { rows, notes };
  },
};

function sameValue(a: string, b: string): boolean {
  return canonicalJson(JSON.parse(a) as JsonValue) === canonicalJson(JSON.parse(b) as JsonValue);
}

function changeOneField(text: string): { text: string; pointer: string } {
  const value = JSON.parse(text) as Record<string, Record<string, unknown>>;
  for (const [model, fields] of Object.entries(value)) {
    if (typeof fields !== 'object' || fields === null) continue;
    for (const [field, current] of Object.entries(fields)) {
      if (typeof current === 'number' && current > 0) {
        fields[field] = current * 1.01;
        return { text: JSON.stringify(value), pointer: `/${model}/${field}` };
      }
    }
  }
  throw new Error('no numeric field to change in the catalog');
}

async function etcdPeer(dataRoot: string): Promise<Peer> {
  const etcd = await startEtcd(dataRoot);
  const port = Number(new URL(etcd.url).port);
  const proxy = await ByteProxy.start(port);
  const writer = etcd.client();
  const watcherClient = new Etcd3({ hosts: `http://${LOOPBACK}:${proxy.port}` });
  let seen = 0;
  const watcher = await watcherClient.watch().key(KEY).create();
  watcher.on('put', () => {
    seen++;
  });
  return {
    name: 'etcd 3.4',
    proxy,
    put: async (text) => void (await writer.put(KEY).value(text)),
    seen: (count) =>
      waitFor(`etcd watcher to see ${count} values`, () => seen >= count, DELIVERY_TIMEOUT_MS, 2),
    close: async () => {
      await watcher.cancel();
      watcherClient.close();
      writer.close();
      await proxy.close();
    },
  };
}

async function natsPeer(dataRoot: string): Promise<Peer> {
  const nats = await startNats(dataRoot, { maxPayloadBytes: NATS_MAX_PAYLOAD_BYTES });
  const port = Number(new URL(nats.url).port);
  const proxy = await ByteProxy.start(port);
  const writer = await nats.connect();
  const kv = await writer.jetstream().views.kv(NATS_BUCKET, { history: 1 });
  const watcherConnection = await connect({ servers: `nats://${LOOPBACK}:${proxy.port}` });
  const watched = await watcherConnection.jetstream().views.kv(NATS_BUCKET);
  const iterator = await watched.watch({ key: KEY });
  let seen = 0;
  void (async () => {
    for await (const entry of iterator) if (entry.operation === 'PUT') seen++;
  })().catch(() => {});
  return {
    name: 'NATS 2.9 KV',
    proxy,
    put: async (text) => void (await kv.put(KEY, text)),
    seen: (count) =>
      waitFor(`NATS watcher to see ${count} values`, () => seen >= count, DELIVERY_TIMEOUT_MS, 2),
    close: async () => {
      iterator.stop();
      await watcherConnection.close();
      await writer.close();
      await proxy.close();
    },
  };
}
