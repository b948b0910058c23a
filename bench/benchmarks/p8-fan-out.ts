import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from '../context.ts';
import { startWatchers, type WatcherGroup } from '../load/watchers.ts';
import { OriginApi } from '../ours/origin-api.ts';
import { startOrigin } from '../ours/origin-process.ts';
import { configValueText } from '../ours/values.ts';
import { startEtcd } from '../peers/etcd-server.ts';
import { startNats } from '../peers/nats-server.ts';
import { makeRow, type ResultRow } from '../result.ts';
import { monotonicMs, sleep } from '../support/net.ts';
import {
  type ManagedProcess,
  nextMessage,
  residentBytes,
  startProcess,
  stopProcess,
} from '../support/processes.ts';
import { latencyPercentiles } from '../support/stats.ts';

const CLIENTS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'load',
  'light-agents.ts',
);
const TENANT = 'fanout';
const KEY = 'routers/prod/default';
const FULL_LEVELS = [1_000, 5_000, 10_000];
const QUICK_LEVELS = [200, 1_000];
/** Connections per client process. */
const PER_PROCESS = 2_500;
const SETTLE_MS = 3_000;
const WRITE_GAP_MS = 1_000;
const KB = 1000;

type Arrivals = Record<string, number[]>;

/** The issue's figures per idle watcher connection, used when the peers are not installed. */
const ISSUE_ETCD_KB = 143;
const ISSUE_NATS_KB = 31;
const PEER_KEY = 'routers.prod.default';
const PEER_BUCKET = 'fanout';

/** Server RSS per idle watcher connection of etcd and of NATS KV, in kB. */
async function measurePeers(
  dataRoot: string,
  watchers: number,
): Promise<{ etcd: number; nats: number; source: 'measured' }> {
  const etcd = await startEtcd(dataRoot);
  const writer = etcd.client();
  await writer.put(PEER_KEY).value(configValueText(0));
  writer.close();
  const etcdKb = await perConnection(
    etcd.process.pid,
    () => startWatchers({ system: 'etcd', key: PEER_KEY, etcdUrl: etcd.url }, watchers, 4),
    watchers,
  );
  await etcd.stop();

  const nats = await startNats(dataRoot);
  const connection = await nats.connect();
  const kv = await connection.jetstream().views.kv(PEER_BUCKET, { history: 1 });
  await kv.put(PEER_KEY, configValueText(0));
  await connection.close();
  const natsKb = await perConnection(
    nats.process.pid,
    () =>
      startWatchers(
        { system: 'nats', key: PEER_KEY, natsUrl: nats.url, bucket: PEER_BUCKET },
        watchers,
        4,
      ),
    watchers,
  );
  await nats.stop();
  return { etcd: etcdKb, nats: natsKb, source: 'measured' };
}

async function perConnection(
  pid: number,
  connect: () => Promise<WatcherGroup>,
  watchers: number,
): Promise<number> {
  await sleep(SETTLE_MS);
  const before = await residentBytes(pid);
  const group = await connect();
  await sleep(SETTLE_MS);
  const after = await residentBytes(pid);
  await group.stop();
  return (after - before) / watchers / KB;
}

/** P8: origin memory per connected agent and time to deliver one write to all of them. */
export const fanOut: Benchmark = {
  id: 'p8',
  title: 'Fan-out scale',
  defaultRuns: 3,
  how:
    'Light protocol clients (bench/load/light-agents.ts: a real WebSocket each; hello, pongs ' +
    "and acks encoded with protocol/'s codec, frames read with plain msgpackr; no replica), up to " +
    `${PER_PROCESS.toLocaleString('en-US')} per process, connect to one origin holding a small ` +
    'tenant, in steps to 1k, 5k and 10k connections. At each step the origin is left alone ' +
    `for ${SETTLE_MS / 1000} s and its RSS is read: (RSS - RSS before any connection) ÷ ` +
    'connections is the memory per connection. Then single writes of a 1 KB value, ' +
    `${WRITE_GAP_MS / 1000} s apart, are timed from the write call until the delta frame has ` +
    'arrived at every client; the figure is that time for the last client. etcd and NATS ' +
    'are measured the same way for memory: server RSS before and after 1,000 idle watchers, ' +
    'each with its own connection and a watch of one key.',
  async run(context) {
    const levels = context.quick ? QUICK_LEVELS : FULL_LEVELS;
    const origin = await startOrigin({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
    });
    const api = new OriginApi(origin.url, origin.adminToken);
    await api.createTenant(TENANT);
    await api.put(TENANT, KEY, configValueText(0));
    const token = await api.createAgentToken([TENANT]);
    // One write and read before the baseline, so that code paths are loaded and compiled.
    await api.put(TENANT, KEY, configValueText(1));
    await sleep(SETTLE_MS);
    const baseline = await residentBytes(origin.process.pid);

    const peerLevel = levels[0] === 1_000 ? 1_000 : levels[levels.length - 1]!;
    const peerFigures = context.peers
      ? await measurePeers(context.tmpDir, peerLevel)
      : { etcd: ISSUE_ETCD_KB, nats: ISSUE_NATS_KB, source: 'issue' as const };
    context.log(
      `peers at ${peerLevel} watchers: etcd ${peerFigures.etcd.toFixed(1)} kB, NATS ${peerFigures.nats.toFixed(1)} kB per connection`,
    );

    const hosts: ManagedProcess[] = [];
    let connected = 0;
    let sequence = 2;
    const rows: ResultRow[] = [];
    const notes: string[] = [
      `Origin RSS before any connection: ${(baseline / 2 ** 20).toFixed(0)} MiB.`,
    ];
    try {
      for (const level of levels) {
        const opening = Date.now();
        const added: ManagedProcess[] = [];
        while (connected < level) {
          const count = Math.min(PER_PROCESS, level - connected);
          added.push(
            startProcess(process.execPath, ['--import', 'tsx', CLIENTS], {
              name: 'light agents',
              ipc: true,
              env: {
                LIGHT_AGENTS_OPTIONS: JSON.stringify({
                  url: `${origin.wsUrl}/v1/replicate`,
                  token,
                  tenant: TENANT,
                  count,
                }),
              },
            }),
          );
          connected += count;
        }
        await Promise.all(
          added.map((host) =>
            nextMessage(
              host,
              (message): message is { type: 'ready' } => isType(message, 'ready'),
              180_000,
            ),
          ),
        );
        hosts.push(...added);
        context.log(`${level} connections open in ${((Date.now() - opening) / 1000).toFixed(1)} s`);
        await sleep(SETTLE_MS);
        const perConnectionKb = ((await residentBytes(origin.process.pid)) - baseline) / level / KB;

        const sent = new Map<number, number>();
        const warmups = context.warmups;
        for (let write = 0; write < warmups + context.runs; write++) {
          const at = monotonicMs();
          const revision = await api.put(TENANT, KEY, configValueText(sequence++));
          if (write >= warmups) sent.set(revision, at);
          await sleep(WRITE_GAP_MS);
        }
        const reports = await Promise.all(
          hosts.map((host) => {
            const report = nextMessage(
              host,
              (message): message is { type: 'report'; arrivals: Arrivals } =>
                isType(message, 'report'),
              60_000,
            );
            host.child.send({ type: 'report' });
            return report;
          }),
        );
        const lastArrival: number[] = [];
        const p99: number[] = [];
        let missing = 0;
        for (const [revision, at] of sent) {
          const latencies = reports
            .flatMap((report) => report.arrivals[revision] ?? [])
            .map((time) => time - at);
          missing += level - latencies.length;
          const percentiles = latencyPercentiles(latencies);
          lastArrival.push(percentiles.max);
          p99.push(percentiles.p99);
        }
        if (missing > 0) notes.push(`${level} connections: ${missing} deliveries missing.`);
        context.log(
          `${level}: ${perConnectionKb.toFixed(1)} kB per connection, all delivered in ${lastArrival.map((ms) => ms.toFixed(0)).join(', ')} ms`,
        );

        const top = level === levels.at(-1) && !context.quick;
        rows.push(
          makeRow({
            metric: `origin RSS per connection, ${level.toLocaleString('en-US')} agents`,
            unit: 'kB',
            ours: [perConnectionKb],
            peer:
              level === peerLevel
                ? `etcd 3.4, ${peerLevel.toLocaleString('en-US')} idle watchers`
                : undefined,
            peerRuns: level === peerLevel ? [peerFigures.etcd] : null,
            peerSource: peerFigures.source,
            goal: { on: 'ours', op: '<=', target: 20, text: '≤ 20 kB' },
          }),
          ...(level === peerLevel
            ? [
                makeRow({
                  metric: `origin RSS per connection, ${level.toLocaleString('en-US')} agents`,
                  unit: 'kB',
                  ours: [perConnectionKb],
                  peer: `NATS 2.9 KV, ${peerLevel.toLocaleString('en-US')} idle watchers`,
                  peerRuns: [peerFigures.nats],
                  peerSource: peerFigures.source,
                }),
              ]
            : []),
          makeRow({
            metric: `one write delivered to all ${level.toLocaleString('en-US')} agents`,
            unit: 'ms',
            ours: lastArrival,
            goal: top ? { on: 'ours', op: '<', target: 1000, text: '< 1 s at 10k' } : undefined,
          }),
          makeRow({
            metric: `p99 delivery, ${level.toLocaleString('en-US')} agents`,
            unit: 'ms',
            ours: p99,
          }),
        );
      }
    } finally {
      for (const host of hosts) {
        if (host.child.connected) host.child.send({ type: 'close' });
      }
      await Promise.all(hosts.map((host) => stopProcess(host)));
    }
    notes.push(
      peerFigures.source === 'measured'
        ? `Peers: a fresh etcd and a fresh nats-server, each read before and after ${peerLevel.toLocaleString('en-US')} ` +
            'watchers connected (one connection and one watch of the key each, the same light ' +
            'watcher processes as P3), settled for the same time.'
        : "Peer figures per connection are the issue's (etcd about 143 kB, NATS about 31 kB with " +
            '1,000 idle watchers), not measured in this run: the peers are not installed.',
      `Delivery: ${context.runs} writes per step after ${context.warmups} warm-up write; per-connection memory: one reading per step.`,
    );
    if (context.quick)
      notes.push(
        `Quick run: ${levels.join(', ')} connections instead of ${FULL_LEVELS.join(', ')}.`,
      );
    return { rows, notes };
  },
};

function isType(message: unknown, type: string): boolean {
  return (
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type
  );
}
