import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError } from './cli-error.ts';

/** Where the CLI talks to the origin when nothing says otherwise. */
export const DEFAULT_ORIGIN_URL = 'http://127.0.0.1:7400';

/**
 * The admin token a local origin started with `--data ./data` (as `npm start` does) writes on its
 * first start. Used when no token is given anywhere else, relative to the working directory.
 */
export const LOCAL_ADMIN_TOKEN_FILE = join('data', 'admin.token');

/** Settings as the flags of one command give them; every field is optional. */
export interface SettingFlags {
  /** `--origin URL`. */
  origin?: string;
  /** `--token TOKEN`. */
  token?: string;
  /** `--token-file PATH`. */
  tokenFile?: string;
  /** `--config PATH`: a config file other than the one in the user's config dir. */
  config?: string;
}

/** The user's config file: `{"origin": "...", "token": "...", "tokenFile": "..."}`. */
export interface ConfigFile {
  origin?: string;
  token?: string;
  tokenFile?: string;
}

/** Where a setting came from, so that `lcm config` and error messages can say it. */
export type SettingSource = 'flag' | 'env' | 'config' | 'default';

/** The complete settings of one CLI run. */
export interface Settings {
  /** Origin base URL without a trailing slash and without `/v1`. */
  origin: string;
  /** Bearer token, or undefined when none was found anywhere. */
  token: string | undefined;
  /** Where the origin URL and the token came from. */
  sources: { origin: SettingSource; token: SettingSource | 'none' };
  /** The config file that was read, when one exists. */
  configPath: string | undefined;
}

/** What settings resolution reads besides the flags: injected so that tests stay pure. */
export interface SettingsContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  platform: NodeJS.Platform;
  readFile: (path: string) => string | undefined;
}

/** The context of the running process. */
export function processContext(): SettingsContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
    platform: process.platform,
    readFile: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
  };
}

/**
 * The config file path: `$LCM_CONFIG`, else `lcm/config.json` in the user's config dir
 * (`$XDG_CONFIG_HOME`, `~/.config`, or `%APPDATA%` on Windows).
 */
export function configFilePath(context: SettingsContext): string {
  const { env, home, platform } = context;
  if (env.LCM_CONFIG) return resolve(context.cwd, env.LCM_CONFIG);

  const base =
    env.XDG_CONFIG_HOME ||
    (platform === 'win32' && env.APPDATA ? env.APPDATA : join(home, '.config'));
  return join(base, 'lcm', 'config.json');
}

/**
 * Resolves the settings of one run, each from the first place that has it: flags, then the
 * environment (`LCM_ORIGIN`, `LCM_TOKEN`, `LCM_TOKEN_FILE`), then the config file, then the
 * defaults (origin {@link DEFAULT_ORIGIN_URL}; token from `./data/admin.token` when it exists).
 * A token and a token file given at the same level contradict each other and fail.
 */
export function resolveSettings(
  flags: SettingFlags,
  context: SettingsContext = processContext(),
): Settings {
  const configPath = flags.config ? resolve(context.cwd, flags.config) : configFilePath(context);
  const config = readConfigFile(configPath, context, flags.config !== undefined);

  const levels: Array<{ source: SettingSource; values: ConfigFile; what: string }> = [
    { source: 'flag', values: flags, what: '--token and --token-file' },
    {
      source: 'env',
      values: {
        origin: context.env.LCM_ORIGIN || undefined,
        token: context.env.LCM_TOKEN || undefined,
        tokenFile: context.env.LCM_TOKEN_FILE || undefined,
      },
      what: 'LCM_TOKEN and LCM_TOKEN_FILE',
    },
    { source: 'config', values: config ?? {}, what: `token and tokenFile in ${configPath}` },
  ];

  const originLevel = levels.find((level) => level.values.origin);
  const origin = normalizeOrigin(originLevel?.values.origin ?? DEFAULT_ORIGIN_URL);

  let token: string | undefined;
  let tokenSource: Settings['sources']['token'] = 'none';
  for (const level of levels) {
    const { token: given, tokenFile } = level.values;
    if (given && tokenFile) throw new CliError('usage', `${level.what} contradict each other`);
    if (!given && !tokenFile) continue;

    token = given ?? readTokenFile(resolve(context.cwd, tokenFile!), context);
    tokenSource = level.source;
    break;
  }
  if (token === undefined) {
    const local = context.readFile(resolve(context.cwd, LOCAL_ADMIN_TOKEN_FILE));
    if (local?.trim()) {
      token = local.trim();
      tokenSource = 'default';
    }
  }

  return {
    origin,
    token,
    sources: { origin: originLevel?.source ?? 'default', token: tokenSource },
    configPath: config ? configPath : undefined,
  };
}

function readConfigFile(
  path: string,
  context: SettingsContext,
  required: boolean,
): ConfigFile | undefined {
  const text = context.readFile(path);
  if (text === undefined) {
    if (required) throw new CliError('usage', `the config file ${path} does not exist`);
    return undefined;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError('usage', `the config file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError('usage', `the config file ${path} must hold a JSON object`);
  }

  const config: ConfigFile = {};
  for (const field of ['origin', 'token', 'tokenFile'] as const) {
    const value = (parsed as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      throw new CliError('usage', `"${field}" in the config file ${path} must be a string`);
    }
    config[field] = value;
  }
  return config;
}

function readTokenFile(path: string, context: SettingsContext): string {
  const text = context.readFile(path)?.trim();
  if (!text) throw new CliError('usage', `the token file ${path} is missing or empty`);
  return text;
}

function normalizeOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new CliError('usage', `the origin "${origin}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('usage', `the origin "${origin}" must be an http or https URL`);
  }
  return url.href.replace(/\/+$/, '').replace(/\/v1$/, '');
}
