import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ManagedProcess,
  nextMessage,
  startProcess,
  stopProcess,
} from '../support/processes.ts';

const HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), 'watcher-host.ts');

/** Options shared by every watcher host of one system; see watcher-host.ts. */
export interface WatcherOptions {
  system: 'etcd' | 'nats' | 'lcm';
  key: string;
  etcdUrl?: string;
  natsUrl?: string;
  bucket?: string;
  agentUrls?: string[];
  tenant?: string;
}

/** Watchers spread over a few processes. */
export interface WatcherGroup {
  /** Resolves once `count` watchers in all have seen `sequence`, or after `timeoutMs`. */
  waitSeen(sequence: number, count: number, timeoutMs: number): Promise<void>;
  /** Every watcher's notes: per watcher, [sequence, monotonic ms] pairs. Stops the hosts. */
  collect(): Promise<Array<Array<[number, number]>>>;
  stop(): Promise<void>;
}

/** Starts `count` watchers of one system spread over at most `processes` host processes. */
export async function startWatchers(
  options: WatcherOptions,
  count: number,
  processes: number,
): Promise<WatcherGroup> {
  const hosts: ManagedProcess[] = [];
  const perHost = Math.ceil(count / processes);
  for (let first = 0; first < count; first += perHost) {
    const hostCount = Math.min(perHost, count - first);
    const hostOptions = {
      ...options,
      count: hostCount,
      agentUrls: options.agentUrls?.slice(first, first + hostCount),
    };
    hosts.push(
      startProcess(process.execPath, ['--import', 'tsx', HOST], {
        name: `${options.system} watchers`,
        ipc: true,
        env: { WATCHER_OPTIONS: JSON.stringify(hostOptions) },
      }),
    );
  }
  await Promise.all(
    hosts.map((host) =>
      nextMessage(
        host,
        (message): message is { type: 'ready' } => isType(message, 'ready'),
        120_000,
      ),
    ),
  );
  const seenCounts = new Map<number, number>();
  let waiter: { sequence: number; count: number; resolve: () => void } | undefined;
  for (const host of hosts) {
    host.child.on('message', (message: unknown) => {
      if (!isType(message, 'seen')) return;
      for (const [sequence, count] of (message as { counts: Array<[number, number]> }).counts) {
        seenCounts.set(sequence, (seenCounts.get(sequence) ?? 0) + count);
      }
      if (waiter && (seenCounts.get(waiter.sequence) ?? 0) >= waiter.count) waiter.resolve();
    });
  }
  const stop = async () => {
    await Promise.all(hosts.map((host) => stopProcess(host)));
  };
  return {
    async waitSeen(sequence, count, timeoutMs) {
      if ((seenCounts.get(sequence) ?? 0) >= count) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        }
        waiter = { sequence, count, resolve: done };
      });
    },
    async collect() {
      const reports = await Promise.all(
        hosts.map((host) => {
          const report = nextMessage(
            host,
            (message): message is { type: 'report'; seen: Array<Array<[number, number]>> } =>
              isType(message, 'report'),
            30_000,
          );
          host.child.send({ type: 'report' });
          return report;
        }),
      );
      await stop();
      return reports.flatMap((report) => report.seen);
    },
    stop,
  };
}

function isType(message: unknown, type: string): boolean {
  return (
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type
  );
}
