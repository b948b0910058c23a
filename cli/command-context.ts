import { type Command, Option } from 'commander';
import { assertTenantId, keyProblem, type LcmError } from '../core/index.ts';
import { CliError } from './cli-error.ts';
import { OriginClient } from './origin-client.ts';
import { type Painter, painterFor } from './output.ts';
import { resolveSettings, type Settings } from './settings.ts';

/** What every command action gets: resolved settings, an origin client and output helpers. */
export interface CommandContext {
  settings: Settings;
  origin: OriginClient;
  /** True with `--json`: print one JSON document and nothing else on standard output. */
  json: boolean;
  /** Colors for standard output (none off a TTY or with NO_COLOR). */
  paint: Painter;
}

/** Options every command that talks to the origin accepts. */
interface ConnectionOptions {
  origin?: string;
  token?: string;
  tokenFile?: string;
  config?: string;
  json?: boolean;
}

/** Adds `--json` to a command. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print one JSON document instead of human output');
}

/**
 * Adds the connection options (`--origin`, `--token`, `--token-file`, `--config`) and `--json`
 * to a command.
 */
export function withConnection(command: Command): Command {
  return withJson(
    command
      .option('--origin <url>', 'origin URL (env LCM_ORIGIN; default http://127.0.0.1:7400)')
      .option('--token <token>', 'bearer token (env LCM_TOKEN; default ./data/admin.token)')
      .option('--token-file <path>', 'file holding the bearer token (env LCM_TOKEN_FILE)')
      .option('--config <path>', 'config file (default $XDG_CONFIG_HOME/lcm/config.json)'),
  );
}

/** Adds `--tenant` (env LCM_TENANT) to a command. */
export function withTenant(command: Command): Command {
  return command.addOption(
    new Option('--tenant <tenant>', 'tenant id').env('LCM_TENANT').makeOptionMandatory(),
  );
}

/** The tenant of a command's options, checked. */
export function tenantOf(options: { tenant?: string }): string {
  const tenant = options.tenant ?? '';
  try {
    assertTenantId(tenant);
  } catch (error) {
    throw new CliError('usage', `--tenant "${tenant}": ${(error as LcmError).message}`);
  }
  return tenant;
}

/** Builds the context of a command from its options. */
export function commandContext(options: ConnectionOptions): CommandContext {
  const settings = resolveSettings({
    origin: options.origin,
    token: options.token,
    tokenFile: options.tokenFile,
    config: options.config,
  });
  return {
    settings,
    origin: new OriginClient(settings.origin, settings.token),
    json: options.json === true,
    paint: painterFor(process.stdout),
  };
}

/** Parses a non-negative integer option such as `--revision`. */
export function parseRevision(text: string, name = 'revision'): number {
  if (!/^\d+$/.test(text)) throw new CliError('usage', `--${name} must be a whole number`);
  return Number(text);
}

/** Parses a positive number option such as `--rate`. */
export function parsePositive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new CliError('usage', `--${name} must be a positive number`);
  }
  return value;
}

/** Splits a comma-separated option value, dropping empty items. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Returns `key` when it is a valid entry key; throws an `invalid` failure naming why not. */
export function checkKey(key: string): string {
  const problem = keyProblem(key);
  if (problem)
    throw new CliError('invalid', `the key "${key}" is not valid: ${problem}`, { code: 'bad_key' });
  return key;
}
