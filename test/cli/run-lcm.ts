import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LCM_BIN = join(PROJECT_ROOT, 'bin/lcm.js');

/** How one `lcm` run ended. */
export interface LcmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/lcm.js ...args` as a real child process, with colors off and no settings
 * leaking in from the developer's environment or config file, and resolves when it exits.
 */
export function runLcm(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string } = {},
): Promise<LcmRun> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: '1',
    LCM_ORIGIN: undefined,
    LCM_TOKEN: undefined,
    LCM_TOKEN_FILE: undefined,
    LCM_TENANT: undefined,
    LCM_CONFIG: join(PROJECT_ROOT, 'test/cli/no-such-config.json'),
    ...options.env,
  };
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [LCM_BIN, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
