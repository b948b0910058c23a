import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeTempDir, type TempDir } from './temp-dir.ts';

/**
 * Real origin processes for integration tests: `node bin/lcm.js origin` on an ephemeral
 * loopback port with a temporary data folder.
 *
 * ```ts
 * const origin = await startOriginProcess();
 * afterAll(() => origin.dispose());
 * await fetch(`${origin.url}/v1/tenants`, { headers: origin.auth() });
 * await origin.kill();     // SIGKILL, as in a crash
 * await origin.restart();  // same data folder, same port by default
 * ```
 */

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LCM_BIN = join(PROJECT_ROOT, 'bin/lcm.js');
const LISTEN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const LISTENING_MESSAGE = 'origin listening';

const running = new Set<ChildProcess>();

// Never leave an origin behind, even when a test file dies before its teardown.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** How to start an origin process. */
export interface OriginProcessOptions {
  /** Data folder to use; by default a new temporary one, removed by `dispose()`. */
  dataDir?: string;
  /** Extra environment variables (e.g. `LCM_ADMIN_TOKEN`, `LCM_RETAIN_REVISIONS`). */
  env?: Record<string, string>;
  /** Extra command-line arguments after the defaults. */
  args?: string[];
}

/** How an origin process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or stopped) origin child process. */
export interface OriginProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234`; the API is under `/v1`. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The admin token: LCM_ADMIN_TOKEN when given, else the one the origin wrote to its data. */
  readonly adminToken: string;
  /** Every line the process wrote to stdout and stderr, across restarts. */
  readonly logs: string[];
  /** The pino log lines parsed as objects (stdout lines that are JSON). */
  logRecords(): Array<Record<string, unknown>>;
  /** `{ authorization: 'Bearer <token>' }`, with the admin token by default. */
  auth(token?: string): Record<string, string>;
  /** Sends `signal` (default SIGTERM) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** Kills the process with SIGKILL, as a crash would, and waits for it to exit. */
  kill(): Promise<ProcessExit>;
  /** Stops the process if it runs (SIGTERM), then starts it again on the same data folder. */
  restart(options?: { samePort?: boolean }): Promise<void>;
  /** Kills the process if it still runs and removes the temporary data folder it made. */
  dispose(): Promise<void>;
}

/** Starts `lcm origin` as a child process and resolves once it listens. */
export async function startOriginProcess(
  options: OriginProcessOptions = {},
): Promise<OriginProcess> {
  const tempDir: TempDir | undefined = options.dataDir ? undefined : makeTempDir('lcm-origin');
  const dataDir = options.dataDir ?? tempDir!.path;
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<ProcessExit> = Promise.resolve({ code: null, signal: null });
  let port = 0;

  const launch = async (wantedPort: number) => {
    const args = [LCM_BIN, 'origin', '--port', String(wantedPort), '--host', '127.0.0.1'];
    args.push('--data', dataDir, ...(options.args ?? []));
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

  const adminToken = options.env?.LCM_ADMIN_TOKEN ?? readAdminToken(dataDir);

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dataDir,
    adminToken,
    logs,
    logRecords: () => parseLogRecords(logs),
    auth: (token = adminToken) => ({ authorization: `Bearer ${token}` }),
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

function readAdminToken(dataDir: string): string {
  return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
}

function parseLogRecords(logs: string[]): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const line of logs) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line that only looks like JSON is kept in `logs` as text.
    }
  }
  return records;
}

function waitForListening(
  child: ChildProcess,
  logs: string[],
  exited: Promise<ProcessExit>,
): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`origin did not listen within ${LISTEN_TIMEOUT_MS} ms:\n${tail(logs)}`));
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
        new Error(
          `origin exited (code ${code}, signal ${signal}) before listening:\n${tail(logs)}`,
        ),
      );
    });
  });
}

function tail(logs: string[]): string {
  return logs.slice(-20).join('\n');
}
