import { lcmProcess, type ProcessExit } from './lcm-process.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';

/**
 * Real edge agent processes for integration tests: `node bin/lcm.js agent` on an ephemeral
 * loopback port with a temporary replica folder.
 *
 * ```ts
 * const agent = await startAgentProcess({ origin: origin.url, token, tenants: ['acme'] });
 * afterAll(() => agent.dispose());
 * await fetch(`${agent.url}/v1/tenants/acme/entries/k`);
 * await agent.kill();     // SIGKILL, as in a crash
 * await agent.restart();  // same replica folder, same port by default
 * ```
 */

/** How to start an agent process. */
export interface AgentProcessOptions {
  /** The origin's URL (`http://` or `ws://`). */
  origin: string;
  token: string;
  tenants: string[];
  /** Replica folder; by default a new temporary one, removed by `dispose()`. */
  dataDir?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** How an agent process ended. */
export type AgentExit = ProcessExit;

/** A running (or stopped) agent child process. */
export interface AgentProcess {
  /** Base URL of the read API, e.g. `http://127.0.0.1:41235`. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Every line the process wrote, across restarts. */
  readonly logs: string[];
  /** The pino log lines parsed as objects. */
  logRecords(): Array<Record<string, unknown>>;
  /** Sends `signal` (default SIGTERM) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<AgentExit>;
  /** Kills the process with SIGKILL and waits for it to exit. */
  kill(): Promise<AgentExit>;
  /** Stops the process if it runs, then starts it again on the same replica folder. */
  restart(options?: { samePort?: boolean }): Promise<void>;
  /** Kills the process if it still runs and removes the temporary folder it made. */
  dispose(): Promise<void>;
}

/** Starts `lcm agent` as a child process and resolves once its read API listens. */
export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const tempDir: TempDir | undefined = options.dataDir ? undefined : makeTempDir('lcm-agent');
  const dataDir = options.dataDir ?? tempDir!.path;
  const server = lcmProcess(
    'agent',
    (port) => [
      ...['--origin', options.origin, '--token', options.token],
      ...['--tenants', options.tenants.join(','), '--port', String(port)],
      ...['--host', '127.0.0.1', '--data', dataDir],
    ],
    options.env,
  );

  try {
    await server.launch(0);
  } catch (error) {
    await server.signalAndWait('SIGKILL');
    tempDir?.remove();
    throw error;
  }

  return {
    get url() {
      return `http://127.0.0.1:${server.port}`;
    },
    get port() {
      return server.port;
    },
    dataDir,
    logs: server.logs,
    logRecords: () => server.logRecords(),
    stop: (signal = 'SIGTERM') => server.signalAndWait(signal),
    kill: () => server.signalAndWait('SIGKILL'),
    async restart({ samePort = true } = {}) {
      await server.signalAndWait('SIGTERM');
      await server.launch(samePort ? server.port : 0);
    },
    async dispose() {
      await server.signalAndWait('SIGKILL');
      tempDir?.remove();
    },
  };
}
