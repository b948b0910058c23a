import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LCM_BIN = join(PROJECT_ROOT, 'bin/lcm.js');
const LISTEN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const LISTENING_MESSAGE = 'agent listening';

const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

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
export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

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
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<AgentExit> = Promise.resolve({ code: null, signal: null });
  let port = 0;

  const launch = async (wantedPort: number) => {
    const args = [LCM_BIN, 'agent', '--origin', options.origin, '--token', options.token];
    args.push('--tenants', options.tenants.join(','), '--port', String(wantedPort));
    args.push('--host', '127.0.0.1', '--data', dataDir);
    const spawned = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LCM_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(spawned);
    child = spawned;
    exited = new Promise((resolveExit) => {
      spawned.once('exit', (code, signal) => {
        running.delete(spawned);
        resolveExit({ code, signal });
      });
    });
    port = await waitForListening(spawned, logs, exited);
  };

  const signalAndWait = async (signal: NodeJS.Signals) => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
      return exited;
    }
    current.kill(signal);
    const timer = setTimeout(() => current.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };

  try {
    await launch(0);
  } catch (error) {
    await signalAndWait('SIGKILL');
    tempDir?.remove();
    throw error;
  }

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dataDir,
    logs,
    logRecords: () => parseLogRecords(logs),
    stop: (signal = 'SIGTERM') => signalAndWait(signal),
    kill: () => signalAndWait('SIGKILL'),
    async restart({ samePort = true } = {}) {
      await signalAndWait('SIGTERM');
      await launch(samePort ? port : 0);
    },
    async dispose() {
      await signalAndWait('SIGKILL');
      tempDir?.remove();
    },
  };
}

function parseLogRecords(logs: string[]): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const line of logs) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Kept in `logs` as text.
    }
  }
  return records;
}

function waitForListening(
  child: ChildProcess,
  logs: string[],
  exited: Promise<AgentExit>,
): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not listen within ${LISTEN_TIMEOUT_MS} ms:\n${tail(logs)}`));
    }, LISTEN_TIMEOUT_MS);

    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      if (!line.includes(LISTENING_MESSAGE)) return;
      const record = parseLogRecords([line])[0];
      if (record?.msg !== LISTENING_MESSAGE || typeof record.port !== 'number') return;
      clearTimeout(timer);
      resolvePort(record.port);
    });

    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`agent exited (code ${code}, signal ${signal}) before listening:\n${tail(logs)}`),
      );
    });
  });
}

function tail(logs: string[]): string {
  return logs.slice(-20).join('\n');
}
