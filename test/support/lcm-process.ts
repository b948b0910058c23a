import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root, where `bin/lcm.js` lives. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const LCM_BIN = join(PROJECT_ROOT, 'bin/lcm.js');
const LISTEN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

const running = new Set<ChildProcess>();

// Never leave a server behind, even when a test file dies before its teardown.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One `node bin/lcm.js <command>` server, started and restarted as a real child process. It is
 * ready when it logs `<command> listening` with its port, as the origin and the agent do.
 */
export interface LcmProcess {
  /** The port it listens on (0 before the first start). */
  readonly port: number;
  /** Every line the process wrote to stdout and stderr, across restarts. */
  readonly logs: string[];
  /** The pino log lines parsed as objects (stdout lines that are JSON). */
  logRecords(): Array<Record<string, unknown>>;
  /** Starts the process on `wantedPort` (0 for any) and waits until it listens. */
  launch(wantedPort: number): Promise<void>;
  /** Sends `signal` and waits for the exit; SIGKILL follows when it takes too long. */
  signalAndWait(signal: NodeJS.Signals): Promise<ProcessExit>;
}

/**
 * Makes the handle of an `lcm <command>` server; `argsFor(port)` gives its arguments after the
 * command, `env` is added to this process's environment.
 */
export function lcmProcess(
  command: 'origin' | 'agent',
  argsFor: (port: number) => string[],
  env: Record<string, string> = {},
): LcmProcess {
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<ProcessExit> = Promise.resolve({ code: null, signal: null });
  let port = 0;

  return {
    get port() {
      return port;
    },
    logs,
    logRecords: () => parseLogRecords(logs),

    async launch(wantedPort) {
      const spawned = spawn(process.execPath, [LCM_BIN, command, ...argsFor(wantedPort)], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, LCM_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(spawned);
      child = spawned;
      // 'close' rather than 'exit': it comes once stdout and stderr are read to the end, so
      // every log line the process wrote is in `logs` when a stop resolves.
      exited = new Promise((resolveExit) => {
        spawned.once('close', (code, signal) => {
          running.delete(spawned);
          resolveExit({ code, signal });
        });
      });
      port = await waitForListening(command, spawned, logs, exited);
    },

    async signalAndWait(signal) {
      const current = child;
      if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
        return exited;
      }
      current.kill(signal);
      const timer = setTimeout(() => current.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
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
      // A line that only looks like JSON is kept in `logs` as text.
    }
  }
  return records;
}

function waitForListening(
  command: string,
  child: ChildProcess,
  logs: string[],
  exited: Promise<ProcessExit>,
): Promise<number> {
  const listening = `${command} listening`;
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not listen within ${LISTEN_TIMEOUT_MS} ms:\n${tail(logs)}`));
    }, LISTEN_TIMEOUT_MS);

    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      if (!line.includes(listening)) return;
      const record = parseLogRecords([line])[0];
      if (record?.msg !== listening || typeof record.port !== 'number') return;
      clearTimeout(timer);
      resolvePort(record.port);
    });

    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${command} exited (code ${code}, signal ${signal}) before listening:\n${tail(logs)}`,
        ),
      );
    });
  });
}

function tail(logs: string[]): string {
  return logs.slice(-20).join('\n');
}
