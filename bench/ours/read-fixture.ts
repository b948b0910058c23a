import path from 'node:path';
import type { BenchContext } from '../context.ts';
import { freePort, LOOPBACK } from '../support/net.ts';
import { type ManagedProcess, startProcess, waitForOutput } from '../support/processes.ts';
import { entryPath, startAgent, waitForEntry } from './agent-process.ts';
import { OriginApi } from './origin-api.ts';
import { startOrigin } from './origin-process.ts';
import { configValueText } from './values.ts';

/** CPU the servers under test are pinned to; the load generator gets {@link LOAD_CPU}. */
export const SERVER_CPU = '1';
/** CPU the load generator is pinned to. */
export const LOAD_CPU = '0';

const TENANT = 'bench';
const KEY = 'routers/prod/default';

/** An agent serving a 1 KB entry, and bare servers answering the same bytes. */
export interface ReadFixture {
  /** Path of the entry on both servers. */
  path: string;
  agentPort: number;
  ceilingPort: number;
  /** Bare Hono on @hono/node-server answering the same bytes (a diagnostic, P1 only). */
  honoPort: number;
  /** Response headers the agent sends (and the ceiling copies). */
  headers: Record<string, string>;
  bodyBytes: number;
}

/**
 * Starts an origin, writes one 1 KB entry, starts an agent pinned to {@link SERVER_CPU} and
 * waits until it serves the entry, then starts the ceiling on the same CPU with the agent's
 * exact answer (headers and body) held in memory.
 */
export async function startReadFixture(context: BenchContext): Promise<ReadFixture> {
  const profileDir = context.profileDir;
  const origin = await startOrigin({
    repoRoot: context.repoRoot,
    dataRoot: context.tmpDir,
    cpuProfileDir: context.profileDir,
  });
  const api = new OriginApi(origin.url, origin.adminToken);
  await api.createTenant(TENANT);
  await api.put(TENANT, KEY, configValueText(1));
  const token = await api.createAgentToken([TENANT]);

  const agent = await startAgent({
    repoRoot: context.repoRoot,
    dataRoot: context.tmpDir,
    originWsUrl: origin.wsUrl,
    token,
    tenants: [TENANT],
    cpus: SERVER_CPU,
    cpuProfileDir: profileDir,
  });
  await waitForEntry(agent.url, TENANT, KEY, 30_000);

  const response = await fetch(`${agent.url}${entryPath(TENANT, KEY)}`);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    // node:http writes these itself on every answer, as the agent's server does.
    if (
      !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)
    ) {
      headers[name] = value;
    }
  }

  const answer = JSON.stringify({ headers, bodyBase64: body.toString('base64') });
  const startCeiling = async (script: string, name: string) => {
    const port = await freePort();
    const ceiling: ManagedProcess = startProcess(
      process.execPath,
      ['--import', 'tsx', path.join(context.repoRoot, 'bench', 'peers', script)],
      {
        name,
        cpus: SERVER_CPU,
        env: { CEILING_PORT: String(port), CEILING_RESPONSE: answer },
      },
    );
    await waitForOutput(ceiling, /listening/, 15_000);
    return port;
  };
  return {
    path: entryPath(TENANT, KEY),
    agentPort: agent.port,
    ceilingPort: await startCeiling('ceiling-server.ts', 'node:http ceiling'),
    honoPort: await startCeiling('hono-ceiling-server.ts', 'Hono ceiling'),
    headers,
    bodyBytes: body.length,
  };
}

/** `http://127.0.0.1:PORT/PATH`. */
export function loopbackUrl(port: number, urlPath: string): string {
  return `http://${LOOPBACK}:${port}${urlPath}`;
}
