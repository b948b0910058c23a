import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, httpAnswers, LOOPBACK } from '../support/net.ts';
import { type ManagedProcess, startProcess, stopProcess, waitFor } from '../support/processes.ts';

/** Our durability as the origin runs here, stated in the results. */
export const ORIGIN_DURABILITY =
  'origin defaults: libSQL file in WAL mode with synchronous=FULL, so every acknowledged commit ' +
  'is fsynced; concurrent commits share one transaction and one fsync (group commit, up to 64)';

/** Options for {@link startOrigin}. */
export interface OriginStartOptions {
  repoRoot: string;
  /** Parent folder; the origin's data folder is made inside it. */
  dataRoot: string;
  cpus?: string;
  /** Write a CPU profile to this folder when the origin stops. */
  cpuProfileDir?: string;
  env?: Record<string, string>;
}

/** A running origin (`lcm origin`) and an admin client of it. */
export interface OriginProcess {
  process: ManagedProcess;
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `ws://127.0.0.1:PORT`, what an agent's `--origin` takes. */
  wsUrl: string;
  adminToken: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts `lcm origin` on a free loopback port with a fresh data folder, logging warnings only. */
export async function startOrigin(options: OriginStartOptions): Promise<OriginProcess> {
  const dataDir = path.join(options.dataRoot, `origin-${Date.now()}`);
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const nodeArgs = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(options.cpuProfileDir, 'origin')}`]
    : [];
  const managed = startProcess(
    process.execPath,
    [
      ...nodeArgs,
      path.join(options.repoRoot, 'bin', 'lcm.js'),
      'origin',
      '--port',
      String(port),
      '--data',
      dataDir,
    ],
    {
      name: 'origin',
      cpus: options.cpus,
      env: { LCM_LOG_LEVEL: 'warn', ...options.env },
      stopGraceMs: 10_000,
    },
  );
  const url = `http://${LOOPBACK}:${port}`;
  await waitFor(
    'the origin to answer /healthz',
    async () => {
      if (managed.child.exitCode !== null) throw new Error(`origin exited:\n${managed.output()}`);
      return await httpAnswers(`${url}/healthz`);
    },
    30_000,
    50,
  );
  const adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  return {
    process: managed,
    port,
    url,
    wsUrl: `ws://${LOOPBACK}:${port}`,
    adminToken,
    dataDir,
    stop: () => stopProcess(managed),
  };
}
