import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lcmProcess, type ProcessExit } from './lcm-process.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';

export type { ProcessExit } from './lcm-process.ts';

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

/** How to start an origin process. */
export interface OriginProcessOptions {
  /** Data folder to use; by default a new temporary one, removed by `dispose()`. */
  dataDir?: string;
  /** Extra environment variables (e.g. `LCM_ADMIN_TOKEN`, `LCM_RETAIN_REVISIONS`). */
  env?: Record<string, string>;
  /** Extra command-line arguments after the defaults. */
  args?: string[];
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
  const server = lcmProcess(
    'origin',
    (port) => [
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data',
      dataDir,
      ...(options.args ?? []),
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

  const adminToken = options.env?.LCM_ADMIN_TOKEN ?? readAdminToken(dataDir);

  return {
    get url() {
      return `http://127.0.0.1:${server.port}`;
    },
    get port() {
      return server.port;
    },
    dataDir,
    adminToken,
    logs: server.logs,
    logRecords: () => server.logRecords(),
    auth: (token = adminToken) => ({ authorization: `Bearer ${token}` }),
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

function readAdminToken(dataDir: string): string {
  return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
}
