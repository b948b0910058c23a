import type { JsonValue } from '../core/index.ts';
import { httpRequest } from './http.ts';
import { headRevisionOf, parseBody, revisionOf, type SecretMetadata } from './origin-client.ts';

/** A value read at an agent, with how fresh it is. */
export interface AgentRead {
  value: JsonValue;
  text: string;
  /** The revision of the key's last change (its ETag). */
  revision: number | undefined;
  /** The tenant revision the agent has applied. */
  headRevision: number | undefined;
  /** Milliseconds since the agent last heard from the origin, when the agent says it. */
  stalenessMs: number | undefined;
  etag: string | undefined;
}

/** What a watch returned: the new revision, or nothing when it timed out. */
export interface WatchResult {
  revision: number | undefined;
  changed: boolean;
}

/** A client of an edge agent's local read API. */
export class AgentClient {
  readonly baseUrl: string;

  /** `url` is the agent's base URL, without `/v1`. */
  constructor(url: string) {
    this.baseUrl = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  /** Reads a key from the agent's replica. */
  async getEntry(tenant: string, key: string): Promise<AgentRead> {
    const response = await httpRequest({
      url: `${this.baseUrl}/v1/tenants/${tenant}/entries/${key}`,
    });
    const staleness = response.headers.get('x-config-staleness-ms');
    return {
      value: parseBody(response),
      text: response.text,
      revision: revisionOf(response),
      headRevision: headRevisionOf(response),
      stalenessMs: staleness === null ? undefined : Number(staleness),
      etag: response.headers.get('etag') ?? undefined,
    };
  }

  /** Lists the keys under `prefix` at the agent. */
  async listEntries(tenant: string, prefix = ''): Promise<unknown> {
    const query = prefix ? `?prefix=${encodeURIComponent(prefix)}` : '';
    const response = await httpRequest({
      url: `${this.baseUrl}/v1/tenants/${tenant}/entries${query}`,
    });
    return parseBody(response);
  }

  /**
   * Waits until the key changes past revision `after`, or `timeoutMs` passes (long poll).
   * Returns the revision the agent then has for the key.
   */
  async watch(
    tenant: string,
    key: string,
    after: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WatchResult> {
    const url = new URL(`${this.baseUrl}/v1/tenants/${tenant}/watch/${key}`);
    url.searchParams.set('after', String(after));
    url.searchParams.set('timeout_ms', String(timeoutMs));
    const response = await httpRequest({
      url: url.href,
      timeoutMs: timeoutMs + WATCH_GRACE_MS,
      accept: [304, 404],
      signal,
    });
    const revision = revisionOf(response);
    const changed = response.status === 200 && revision !== undefined && revision > after;
    return { revision, changed };
  }

  /**
   * Reads a secret at the agent: its metadata, and with `secretToken` (the agent's local secret
   * token) its plaintext.
   */
  async getSecret(
    tenant: string,
    key: string,
    options: { secretToken?: string; previous?: boolean } = {},
  ): Promise<SecretMetadata & { value?: JsonValue }> {
    const url = new URL(`${this.baseUrl}/v1/tenants/${tenant}/secrets/${key}`);
    if (options.secretToken) url.searchParams.set('reveal', 'true');
    if (options.previous) url.searchParams.set('version', 'previous');
    const response = await httpRequest({ url: url.href, token: options.secretToken });
    return parseBody(response);
  }

  /** The agent's `/v1/status` document. */
  async status(): Promise<unknown> {
    return parseBody(await httpRequest({ url: `${this.baseUrl}/v1/status` }));
  }

  /** The agent's Prometheus metrics as text. */
  async metrics(): Promise<string> {
    const response = await httpRequest({
      url: `${this.baseUrl}/metrics`,
      headers: { accept: '*/*' },
    });
    return response.text;
  }
}

/** Extra time a watch request is given past its own timeout before the CLI gives up on it. */
export const WATCH_GRACE_MS = 5_000;

/**
 * The value of a Prometheus counter or gauge in a metrics text, summed over its label sets, or
 * undefined when the metric is absent.
 */
export function metricValue(metricsText: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of metricsText.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (!match || match[1] !== name) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}
