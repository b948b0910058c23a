import path from 'node:path';
import type { BenchContext } from '../context.ts';
import { LOOPBACK } from '../support/net.ts';
import {
  type ManagedProcess,
  nextMessage,
  startProcess,
  stopProcess,
  waitFor,
} from '../support/processes.ts';

/** Options for {@link startAgentFleet}. */
export interface FleetOptions {
  originWsUrl: string;
  token: string;
  tenant: string;
  count: number;
  /** Agents are spread over at most this many processes. */
  processes: number;
}

/** Many agents spread over a few processes. */
export interface AgentFleet {
  /** Every agent's read API base URL. */
  urls: string[];
  /** Host process ids, for memory readings. */
  pids: number[];
  stop(): Promise<void>;
}

/** Starts `count` agents over at most `processes` host processes and waits until all serve. */
export async function startAgentFleet(
  context: BenchContext,
  options: FleetOptions,
): Promise<AgentFleet> {
  const hosts: ManagedProcess[] = [];
  const perHost = Math.ceil(options.count / options.processes);
  for (let first = 0; first < options.count; first += perHost) {
    const count = Math.min(perHost, options.count - first);
    hosts.push(
      startProcess(
        process.execPath,
        [
          ...(context.profileDir
            ? ['--cpu-prof', `--cpu-prof-dir=${path.join(context.profileDir, 'agent-host')}`]
            : []),
          '--import',
          'tsx',
          path.join(context.repoRoot, 'bench', 'ours', 'agent-host.ts'),
        ],
        {
          name: 'agent host',
          ipc: true,
          stopGraceMs: 10_000,
          env: {
            AGENT_HOST_OPTIONS: JSON.stringify({
              originWsUrl: options.originWsUrl,
              token: options.token,
              tenants: [options.tenant],
              count,
              dataRoot: context.tmpDir,
            }),
          },
        },
      ),
    );
  }
  const ready = await Promise.all(
    hosts.map((host) =>
      nextMessage(
        host,
        (message): message is { type: 'ready'; ports: number[] } =>
          typeof message === 'object' &&
          message !== null &&
          (message as { type?: string }).type === 'ready',
        120_000,
      ),
    ),
  );
  const urls = ready.flatMap((message) =>
    message.ports.map((port) => `http://${LOOPBACK}:${port}`),
  );
  await waitFor(
    `${urls.length} agents to hold tenant ${options.tenant}`,
    async () => {
      for (const url of urls) {
        const response = await fetch(`${url}/v1/status`).catch(() => null);
        if (!response) return false;
        const status = (await response.json()) as { tenants: Record<string, { revision: number }> };
        if (!((status.tenants[options.tenant]?.revision ?? 0) > 0)) return false;
      }
      return true;
    },
    120_000,
    100,
  );
  return {
    urls,
    pids: hosts.map((host) => host.pid),
    stop: async () => {
      await Promise.all(hosts.map((host) => stopProcess(host, 6_000)));
    },
  };
}
