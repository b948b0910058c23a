import type { BenchContext, Benchmark } from '../context.ts';
import { startWatchers, type WatcherGroup } from '../load/watchers.ts';
import { startAgentFleet } from '../ours/agent-fleet.ts';
import { OriginApi } from '../ours/origin-api.ts';
import { startOrigin } from '../ours/origin-process.ts';
import { configValueText } from '../ours/values.ts';
import { startEtcd } from '../peers/etcd-server.ts';
import { startNats } from '../peers/nats-server.ts';
import { makeRow, type ResultRow } from '../result.ts';
import { monotonicMs, sleep } from '../support/net.ts';
import { latencyPercentiles, median } from '../support/stats.ts';

const TENANT = 'bench';
const KEY = 'routers/prod/default';
const NATS_BUCKET = 'bench';
/**
 * Pause after a write has reached every watcher (or timed out) before the next one, so that
 * each write is measured alone: propagation, not throughput.
 */
const WRITE_GAP_MS = 20;
/** Longest a delivery may take before it counts as missing. */
const DELIVERY_TIMEOUT_MS = 5_000;
/** Watchers (and agents) are spread over at most this many processes per system. */
const HOST_PROCESSES = 4;

type System = 'lcm' | 'etcd' | 'nats';

interface Writer {
  system: System;
  write(sequence: number): Promise<void>;
}

/** P3: time from one write at the origin until it is readable at N agents, against peers. */
export const propagation: Benchmark = {
  id: 'p3',
  title: 'Propagation',
  defaultRuns: 3,
  how:
    'One writer changes one field of a 1 KB value; N watchers note when they can read the ' +
    'new value: for us, N agents each with a long-poll on their local watch endpoint (so the ' +
    "write is applied and readable from the agent's HTTP API); for etcd, N client connections " +
    'each with a watch on the key; for NATS, N connections each with a KV watch. Time runs ' +
    'from just before the write call to the moment a watcher sees the value, on the monotonic ' +
    `clock shared by all processes. Each write waits until every watcher has it (at most ${DELIVERY_TIMEOUT_MS / 1000} s), then ${WRITE_GAP_MS} ms; the three systems ` +
    'are measured in turn within each run, watchers spread over a few processes per system.',
  async run(context) {
    const counts = context.quick ? [1, 10] : [1, 10, 100];
    const writesPerRun = (count: number) => (context.quick ? 10 : count >= 100 ? 15 : 40);
    const origin = await startOrigin({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
    });
    const api = new OriginApi(origin.url, origin.adminToken);
    await api.createTenant(TENANT);
    await api.put(TENANT, KEY, configValueText(0));
    const token = await api.createAgentToken([TENANT]);
    const etcd = context.peers ? await startEtcd(context.tmpDir) : null;
    const nats = context.peers ? await startNats(context.tmpDir) : null;

    const writers: Writer[] = [
      {
        system: 'lcm',
        write: async (sequence) => void (await api.put(TENANT, KEY, configValueText(sequence))),
      },
    ];
    const closers: Array<() => Promise<void>> = [];
    if (etcd) {
      const client = etcd.client();
      await client.put(KEY).value(configValueText(0));
      writers.push({
        system: 'etcd',
        write: async (sequence) => void (await client.put(KEY).value(configValueText(sequence))),
      });
      closers.push(async () => client.close());
    }
    if (nats) {
      const connection = await nats.connect();
      const kv = await connection.jetstream().views.kv(NATS_BUCKET, { history: 1 });
      await kv.put(KEY, configValueText(0));
      writers.push({
        system: 'nats',
        write: async (sequence) => void (await kv.put(KEY, configValueText(sequence))),
      });
      closers.push(() => connection.close());
    }

    const rows: ResultRow[] = [];
    const notes: string[] = [];
    let sequence = 1;
    for (const count of counts) {
      context.log(`${count} watchers per system: starting`);
      const fleet = await startAgentFleet(context, {
        originWsUrl: origin.wsUrl,
        token,
        tenant: TENANT,
        count,
        processes: HOST_PROCESSES,
      });
      const groups = new Map<System, WatcherGroup>();
      groups.set(
        'lcm',
        await startWatchers(
          { system: 'lcm', key: KEY, tenant: TENANT, agentUrls: fleet.urls },
          count,
          HOST_PROCESSES,
        ),
      );
      if (etcd)
        groups.set(
          'etcd',
          await startWatchers(
            { system: 'etcd', key: KEY, etcdUrl: etcd.url },
            count,
            HOST_PROCESSES,
          ),
        );
      if (nats)
        groups.set(
          'nats',
          await startWatchers(
            { system: 'nats', key: KEY, natsUrl: nats.url, bucket: NATS_BUCKET },
            count,
            HOST_PROCESSES,
          ),
        );

      // runs[system][run] = the sequences written in that run, with their send times.
      const sent = new Map<number, { system: System; run: number; at: number }>();
      for (let run = -context.warmups; run < context.runs; run++) {
        const order = rotate(writers, run + context.warmups);
        for (const writer of order) {
          for (let i = 0; i < writesPerRun(count); i++) {
            const at = monotonicMs();
            sent.set(sequence, { system: writer.system, run, at });
            await writer.write(sequence);
            await groups.get(writer.system)!.waitSeen(sequence, count, DELIVERY_TIMEOUT_MS);
            sequence++;
            await sleep(WRITE_GAP_MS);
          }
        }
      }
      await sleep(Math.min(DELIVERY_TIMEOUT_MS, 1_000));

      const figures = new Map<
        System,
        { p50: number[]; p99: number[]; max: number[]; missing: number }
      >();
      for (const [system, group] of groups) {
        const seen = await group.collect();
        const perRun: number[][] = Array.from({ length: context.runs }, () => []);
        let missing = 0;
        for (const watcher of seen) {
          const firstSeen = new Map<number, number>();
          for (const [seq, at] of watcher) if (!firstSeen.has(seq)) firstSeen.set(seq, at);
          for (const [seq, write] of sent) {
            if (write.system !== system || write.run < 0) continue;
            const at = firstSeen.get(seq);
            if (at === undefined || at - write.at > DELIVERY_TIMEOUT_MS) missing++;
            else perRun[write.run]!.push(at - write.at);
          }
        }
        const percentiles = perRun.map((samples) => latencyPercentiles(samples));
        figures.set(system, {
          p50: percentiles.map((p) => p.p50),
          p99: percentiles.map((p) => p.p99),
          max: percentiles.map((p) => p.max),
          missing,
        });
        if (missing > 0)
          notes.push(
            `${system}, ${count} watchers: ${missing} deliveries missing or later than ${DELIVERY_TIMEOUT_MS} ms.`,
          );
      }
      await fleet.stop();

      const ours = figures.get('lcm')!;
      const peers = (['etcd', 'nats'] as const).filter((system) => figures.has(system));
      const better = peers.sort(
        (a, b) => median(figures.get(a)!.p99) - median(figures.get(b)!.p99),
      )[0];
      for (const peer of ['etcd', 'nats'] as const) {
        const figure = figures.get(peer);
        if (!figure) continue;
        rows.push(
          makeRow({
            metric: `p99, ${count} agent${count > 1 ? 's' : ''}`,
            unit: 'ms',
            ours: ours.p99,
            peer: `${peerName(peer)} ×${count}${peer === better ? ' (better peer)' : ''}`,
            peerRuns: figure.p99,
            goal:
              peer === better
                ? { on: 'ratio', op: '<=', target: 0.5, text: 'ratio ≤ 0.5 of the better peer' }
                : undefined,
          }),
        );
      }
      const reference = better ? figures.get(better)! : null;
      for (const [name, pick] of [
        ['p50', (f: typeof ours) => f.p50],
        ['max', (f: typeof ours) => f.max],
      ] as const) {
        rows.push(
          makeRow({
            metric: `${name}, ${count} agent${count > 1 ? 's' : ''}`,
            unit: 'ms',
            ours: pick(ours),
            peer: better ? `${peerName(better)} ×${count}` : undefined,
            peerRuns: reference ? pick(reference) : null,
          }),
        );
      }
    }
    for (const close of closers) await close();
    notes.push(
      `${counts.map(writesPerRun).join(', ')} writes per system per run (for ${counts.join(', ')} watchers), ${context.runs} runs after ${context.warmups} warm-up run; ` +
        'percentiles are per run over every (write, watcher) pair, then the median over runs.',
      `Agents: ${agentHostingNote(counts)}.`,
    );
    return { rows, notes };
  },
};

function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function peerName(system: 'etcd' | 'nats'): string {
  return system === 'etcd' ? 'etcd 3.4 watch' : 'NATS 2.9 KV watch';
}

function agentHostingNote(counts: number[]): string {
  return `up to ${HOST_PROCESSES} processes per system for ${counts.join(', ')} watchers`;
}

export type { BenchContext };
