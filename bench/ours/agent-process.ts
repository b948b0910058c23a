import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, httpAnswers, LOOPBACK } from '../support/net.ts';
import { type ManagedProcess, startProcess, stopProcess, waitFor } from '../support/processes.ts';

/** Options for {@link startAgent}. */
export interface AgentStartOptions {
  repoRoot: string;
  /** Parent folder; the agent's data folder is made inside it. */
  dataRoot: string;
  /** The origin's `ws://` URL. */
  originWsUrl: string;
  token: string;
  tenants: string[];
  cpus?: string;
  cpuProfileDir?: string;
  /** Data folder to use instead of a fresh one (a restart). */
  dataDir?: string;
  /** Do not wait for /healthz (the caller times the start itself). */
  noWait?: boolean;
}

/** A running agent (`lcm agent`). */
export interface AgentProcess {
  process: ManagedProcess;
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts `lcm agent` on a free loopback port, logging warnings only. */
export async function startAgent(options: AgentStartOptions): Promise<AgentProcess> {
  const dataDir =
    options.dataDir ?? path.join(options.dataRoot, `agent-${process.hrtime.bigint()}`);
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const nodeArgs = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(options.cpuProfileDir, 'agent')}`]
    : [];
  const managed = startProcess(
    process.execPath,
    [
      ...nodeArgs,
      path.join(options.repoRoot, 'bin', 'lcm.js'),
      'agent',
      '--origin',
      options.originWsUrl,
      '--token',
      options.token,
      '--tenants',
      options.tenants.join(','),
      '--port',
      String(port),
      '--data',
      dataDir,
    ],
    { name: 'agent', cpus: options.cpus, env: { LCM_LOG_LEVEL: 'warn' }, stopGraceMs: 10_000 },
  );
  const url = `http://${LOOPBACK}:${port}`;
  const agent: AgentProcess = {
    process: managed,
    port,
    url,
    dataDir,
    stop: () => stopProcess(managed),
  };
  if (!options.noWait) {
    await waitFor(
      'the agent to answer /healthz',
      async () => {
        if (managed.child.exitCode !== null) throw new Error(`agent exited:\n${managed.output()}`);
        return await httpAnswers(`${url}/healthz`);
      },
      30_000,
      50,
    );
  }
  return agent;
}

/** The URL path of an entry on the agent's read API. */
export function entryPath(tenant: string, key: string): string {
  return `/v1/tenants/${tenant}/entries/${key}`;
}

/** Waits until the agent answers 200 for the key, with a body satisfying `accept` if given. */
export async function waitForEntry(
  agentUrl: string,
  tenant: string,
  key: string,
  timeoutMs: number,
  accept: (body: string) => boolean = () => true,
): Promise<void> {
  await waitFor(
    `${agentUrl} to serve ${tenant}/${key}`,
    async () => {
      const response = await fetch(`${agentUrl}${entryPath(tenant, key)}`).catch(() => null);
      if (!response) return false;
      const text = await response.text();
      return response.status === 200 && accept(text);
    },
    timeoutMs,
    10,
  );
}
