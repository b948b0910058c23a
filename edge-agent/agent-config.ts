import { isTenantId, LcmError } from '../core/index.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/index.ts';

/** Default port of the agent's read API. */
export const DEFAULT_AGENT_PORT = 7401;

/** Default address the read API listens on: loopback only, reads are for this machine. */
export const DEFAULT_AGENT_HOST = '127.0.0.1';

/** Default folder of the agent's replica. */
export const DEFAULT_AGENT_DATA_DIR = './data/agent';

/** Options as given on the command line; each falls back to its environment variable. */
export interface AgentOptions {
  /** The origin, `ws://host:port` (env `LCM_ORIGIN`). Required. */
  origin?: string;
  /** An `agent`-role token (env `LCM_AGENT_TOKEN`, then `LCM_TOKEN`). Required. */
  token?: string;
  /** Tenants to replicate, comma-separated or a list (env `LCM_TENANTS`). Required. */
  tenants?: string | string[];
  /** Port of the read API (env `LCM_AGENT_PORT`, default 7401; 0 picks a free port). */
  port?: string | number;
  /** Address of the read API (env `LCM_AGENT_HOST`, default 127.0.0.1). */
  host?: string;
  /** Folder of the replica (env `LCM_AGENT_DATA`, default ./data/agent). */
  data?: string;
  /** Largest protocol frame accepted, in bytes (env `LCM_MAX_FRAME_BYTES`, default 16 MiB). */
  maxFrameBytes?: string | number;
  /**
   * The local secret token that reveals secrets on this agent (env `LCM_AGENT_SECRET_TOKEN`);
   * without it, secret reads answer metadata only. At least 16 characters.
   */
  secretToken?: string;
}

/** The agent's complete settings, resolved once at start. */
export interface AgentConfig {
  /** The origin's WebSocket base URL. */
  origin: string;
  /** The origin's HTTP base URL, named in answers to writes. */
  originHttpUrl: string;
  token: string;
  tenants: string[];
  port: number;
  host: string;
  dataDir: string;
  maxFrameBytes: number;
  /** The local secret token; undefined means secrets are never revealed here. */
  secretToken?: string;
}

/**
 * Resolves flags and environment into the agent's settings. Throws `bad_request` naming the flag
 * and variable of every missing or malformed option.
 */
export function resolveAgentConfig(
  options: AgentOptions,
  env: NodeJS.ProcessEnv = process.env,
): AgentConfig {
  const origin = options.origin ?? env.LCM_ORIGIN;
  const token = options.token ?? env.LCM_AGENT_TOKEN ?? env.LCM_TOKEN;
  const tenantList = options.tenants ?? env.LCM_TENANTS;
  const problems: string[] = [];

  if (!origin) problems.push('--origin (or LCM_ORIGIN) is required');
  if (!token) problems.push('--token (or LCM_AGENT_TOKEN / LCM_TOKEN) is required');
  const tenants = (Array.isArray(tenantList) ? tenantList : (tenantList ?? '').split(','))
    .map((tenant) => tenant.trim())
    .filter((tenant) => tenant !== '');
  if (tenants.length === 0) problems.push('--tenants (or LCM_TENANTS) names at least one tenant');
  const badTenant = tenants.find((tenant) => !isTenantId(tenant));
  if (badTenant !== undefined) problems.push(`--tenants: ${badTenant} is not a tenant id`);

  let originUrl: URL | undefined;
  if (origin) {
    try {
      originUrl = new URL(origin);
      if (!['ws:', 'wss:', 'http:', 'https:'].includes(originUrl.protocol)) throw new Error();
    } catch {
      problems.push(`--origin: ${origin} is not a ws:// or http:// URL`);
    }
  }

  const port = wholeNumber(options.port ?? env.LCM_AGENT_PORT, DEFAULT_AGENT_PORT);
  if (port === undefined || port > 65535) problems.push('--port (or LCM_AGENT_PORT) is 0-65535');
  const maxFrameBytes = wholeNumber(
    options.maxFrameBytes ?? env.LCM_MAX_FRAME_BYTES,
    DEFAULT_MAX_FRAME_BYTES,
  );
  if (maxFrameBytes === undefined || maxFrameBytes < 1024) {
    problems.push('LCM_MAX_FRAME_BYTES is a whole number of at least 1024');
  }

  const secretToken = options.secretToken ?? env.LCM_AGENT_SECRET_TOKEN;
  if (secretToken !== undefined && secretToken.length < 16) {
    problems.push('--secret-token (or LCM_AGENT_SECRET_TOKEN) is at least 16 characters');
  }

  if (problems.length > 0 || originUrl === undefined) {
    throw new LcmError('bad_request', `agent settings: ${problems.join('; ')}`);
  }

  const httpUrl = new URL(originUrl);
  httpUrl.protocol =
    httpUrl.protocol === 'wss:' || httpUrl.protocol === 'https:' ? 'https:' : 'http:';
  httpUrl.pathname = '/';
  return {
    origin: originUrl.toString(),
    originHttpUrl: httpUrl.origin,
    token: token!,
    tenants: [...new Set(tenants)],
    port: port!,
    host: options.host ?? env.LCM_AGENT_HOST ?? DEFAULT_AGENT_HOST,
    dataDir: options.data ?? env.LCM_AGENT_DATA ?? DEFAULT_AGENT_DATA_DIR,
    maxFrameBytes: maxFrameBytes!,
    ...(secretToken !== undefined && { secretToken }),
  };
}

function wholeNumber(value: string | number | undefined, fallback: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  return Number.isInteger(number) && number >= 0 ? number : undefined;
}
