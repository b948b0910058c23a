import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** How long a stopped process gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 3_000;

/** Options for {@link startProcess}. */
export interface StartOptions {
  /** A name for logs and error messages. */
  name: string;
  /** Environment added to the parent's. */
  env?: Record<string, string>;
  /** CPU list for `taskset -c` (for example `'1'`); unpinned when absent. */
  cpus?: string;
  /** Working directory; the parent's when absent. */
  cwd?: string;
  /** Open an IPC channel to the child (for Node.js children). */
  ipc?: boolean;
  /** Copy the child's stderr to ours as it comes (progress of benchmark children). */
  echoStderr?: boolean;
  /** Time between SIGTERM and SIGKILL when it is stopped; 3 s when absent. */
  stopGraceMs?: number;
}

/** A process the benchmark started and will stop, with the output it printed so far. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last few kB of stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Time between SIGTERM and SIGKILL when it is stopped. */
  stopGraceMs: number;
}

const OUTPUT_TAIL_BYTES = 8_192;
const running = new Set<ManagedProcess>();

/**
 * Starts a process in its own process group, so that stopping it also stops whatever it
 * spawned. Every process started here is stopped by {@link stopAll}, which runs on exit and on
 * SIGINT / SIGTERM once {@link installCleanup} was called.
 */
export function startProcess(
  command: string,
  args: string[],
  options: StartOptions,
): ManagedProcess {
  const [file, argv] = options.cpus
    ? ['taskset', ['-c', options.cpus, command, ...args]]
    : [command, args];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (options.echoStderr) child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));

  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    child.once('error', (error) => {
      tail += `\n${error.message}`;
      resolve(-1);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.name}: ${command}`);

  const managed: ManagedProcess = {
    name: options.name,
    child,
    pid: child.pid,
    output: () => tail,
    exited,
    stopGraceMs: options.stopGraceMs ?? STOP_GRACE_MS,
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  return managed;
}

/** Stops one process group: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(
  managed: ManagedProcess,
  graceMs = managed.stopGraceMs,
): Promise<void> {
  if (!running.has(managed)) return;
  signalGroup(managed.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(managed.pid, 'SIGKILL'), graceMs);
  await managed.exited;
  clearTimeout(timer);
  // The leader may be gone while children of its group linger.
  signalGroup(managed.pid, 'SIGKILL');
  running.delete(managed);
}

/** Stops every process started through {@link startProcess} that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((managed) => stopProcess(managed)));
}

const scratchDirs = new Set<string>();

/** Removes `dir` when this process exits, however it exits (but SIGKILL). */
export function removeOnExit(dir: string): void {
  scratchDirs.add(dir);
}

/** Kills every process group still running and removes scratch folders, synchronously. */
function killAllNow(): void {
  for (const managed of running) signalGroup(managed.pid, 'SIGKILL');
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

let cleanupInstalled = false;

/**
 * Makes sure no started process outlives this one: on SIGINT / SIGTERM every group is stopped
 * and this process exits; on any exit the remaining groups are killed. Also exits when the
 * parent process disappears (a benchmark child whose driver was killed).
 */
export function installCleanup(options: { watchParent?: boolean } = {}): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAllNow);
  if (options.watchParent) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) onSignal('SIGTERM');
    }, 500).unref();
  }
}

/** Waits until `predicate` returns true, polling; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  predicate: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits for a line matching `pattern` on the process output, or fails when it exits first. */
export async function waitForOutput(
  managed: ManagedProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  let exited = false;
  void managed.exited.then(() => {
    exited = true;
  });
  await waitFor(
    `${managed.name} to print ${pattern}`,
    () => {
      if (exited) throw new Error(`${managed.name} exited early:\n${managed.output()}`);
      return pattern.test(managed.output());
    },
    timeoutMs,
  );
}

/** Resolves when the child sends its first IPC message matching `accept`. */
export async function nextMessage<T>(
  managed: ManagedProcess,
  accept: (message: unknown) => message is T,
  timeoutMs: number,
): Promise<T> {
  const child = managed.child;
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${managed.name} sent no message in ${timeoutMs} ms:\n${managed.output()}`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${managed.name} exited:\n${managed.output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Reads a process's resident set size in bytes from /proc. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
