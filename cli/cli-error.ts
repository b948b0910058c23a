import { LcmError } from '../core/index.ts';

/**
 * The exit codes of `lcm`, one per kind of failure, so that scripts can branch on them.
 * The same table is in the README.
 */
export const EXIT_CODES = {
  /** Done. */
  ok: 0,
  /** A failure none of the others describes (a bug, most likely). */
  internal: 1,
  /** Unknown command or option, missing argument, contradictory or missing settings. */
  usage: 2,
  /** The input was refused: a file that does not parse, a bad key, value or patch (HTTP 4xx). */
  invalid: 3,
  /** The tenant, key, revision, snapshot or token does not exist (HTTP 404). */
  not_found: 4,
  /** Someone else changed it first, or the patch does not apply (HTTP 409, 410, 412). */
  conflict: 5,
  /** No token, a wrong or revoked token, or a token without the right (HTTP 401, 403). */
  auth: 6,
  /** The origin or an agent is unreachable, failed (HTTP 5xx) or asked to slow down (429). */
  server: 7,
  /** Replay found a version missing at an agent, or a value whose hash differs. */
  verification: 8,
} as const;

/** The kind of a CLI failure, named after its exit code. */
export type FailureKind = Exclude<keyof typeof EXIT_CODES, 'ok'>;

/**
 * A failure of a CLI command. `kind` decides the exit code; `code` is the server's stable
 * error code when the failure came from the origin or an agent.
 */
export class CliError extends Error {
  readonly kind: FailureKind;
  readonly code: string | undefined;
  /** Extra machine-readable detail printed with `--json` (parse errors of apply, say). */
  readonly details: unknown;

  constructor(
    kind: FailureKind,
    message: string,
    options: { code?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.kind = kind;
    this.code = options.code;
    this.details = options.details;
  }

  /** The process exit code for this failure. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** The failure kind for an HTTP status an origin or agent answered with. */
export function kindOfStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 409 || status === 410 || status === 412) return 'conflict';
  if (status === 429 || status >= 500) return 'server';
  if (status >= 400) return 'invalid';
  return 'internal';
}

/** Turns anything thrown into a {@link CliError}. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof LcmError) {
    return new CliError(kindOfStatus(error.status), error.message, {
      code: error.code,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError('internal', message, { cause: error });
}
