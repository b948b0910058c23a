import { CliError, toCliError } from './cli-error.ts';

/** Which server `lcm origin` or `lcm agent` runs, as named in their messages. */
export type ServerName = 'origin' | 'agent';

/**
 * Resolves a server's settings; a malformed or contradictory setting becomes a usage failure
 * (exit 2) with one line naming it, not a stack trace.
 */
export function resolveServerSettings<T>(server: ServerName, resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const prefix = `${server} settings: `;
    throw new CliError('usage', message.startsWith(prefix) ? message : `${prefix}${message}`);
  }
}

/**
 * Starts a server; a failure to start (port taken, address not available, store or key
 * provider unreachable) becomes one line on standard error and exit 7, like any other server
 * or network failure, instead of a stack trace.
 */
export async function startServer<T>(server: ServerName, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const failure = toCliError(error);
    throw new CliError('server', `the ${server} could not start: ${failure.message}`, {
      ...(failure.code !== undefined && { code: failure.code }),
    });
  }
}
