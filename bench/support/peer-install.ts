import { execFileSync, spawnSync } from 'node:child_process';

/** A program the full benchmark needs, and the Debian package that brings it. */
interface NeededProgram {
  command: string;
  aptPackage: string;
}

/** The peers and the load generator, from Debian's packages. */
export const NEEDED_PROGRAMS: readonly NeededProgram[] = [
  { command: 'etcd', aptPackage: 'etcd-server' },
  { command: 'nats-server', aptPackage: 'nats-server' },
  { command: 'wrk', aptPackage: 'wrk' },
  { command: 'taskset', aptPackage: 'util-linux' },
];

/** True when `command` is on the PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Programs from {@link NEEDED_PROGRAMS} that are not installed. */
export function missingPrograms(): NeededProgram[] {
  return NEEDED_PROGRAMS.filter((program) => !hasCommand(program.command));
}

/**
 * Installs the missing peers with apt-get (the benchmark runs as root on these machines).
 * Returns the programs still missing afterwards, so the caller can report them.
 */
export function installPeers(log: (message: string) => void): NeededProgram[] {
  const missing = missingPrograms();
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    log(`not root: cannot install ${missing.map((p) => p.aptPackage).join(', ')}`);
    return missing;
  }
  const packages = [...new Set(missing.map((program) => program.aptPackage))];
  log(`installing with apt-get: ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore', env, timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-q', ...packages], {
      stdio: 'ignore',
      env,
      timeout: 600_000,
    });
  } catch (error) {
    log(`apt-get failed: ${(error as Error).message}`);
  }
  // Debian's packages register services; on a machine with an init system they may have
  // started one. The benchmark starts its own on free ports and leaves system services alone.
  return missingPrograms();
}

/** The first line a program prints for `--version`, or `absent`. */
export function programVersion(command: string, args = ['--version']): string {
  if (!hasCommand(command)) return 'absent';
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5_000 });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return text.split('\n')[0] ?? 'unknown';
}
