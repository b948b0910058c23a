import { isErrorCode, type JsonValue, LcmError } from '../../core/index.ts';

/** Default wait of one watch long-poll, in ms. */
export const DEFAULT_CLIENT_WATCH_TIMEOUT_MS = 30_000;

/** Pause after a failed watch request before the next, in ms. */
const WATCH_RETRY_MS = 1_000;

/** How to reach an agent (or an origin: the read paths are the same). */
export interface ConfigClientOptions {
  /** Base URL of the agent's read API, e.g. `http://127.0.0.1:7401`. */
  baseUrl: string;
  /** The tenant to read. */
  tenant: string;
  /** A bearer token, needed when reading from the origin; agents ignore it. */
  token?: string;
  /** Refuse answers older than this (the agent answers 503 `stale`). */
  maxStalenessMs?: number;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
}

/** A value read, with what it reflects. */
export interface ConfigRead<T = JsonValue> {
  value: T;
  /** The key's revision (its ETag). */
  revision: number;
  /** The tenant revision the agent held when it answered. */
  tenantRevision: number;
  /** How long since the agent last heard from the origin; 0 when connected. */
  stalenessMs: number;
}

/** A running watch; `stop()` ends it. */
export interface ConfigWatch {
  stop(): void;
}

/**
 * A small client for consumers of configuration: `get` answers from an ETag cache when the
 * agent says nothing changed, `watch` calls back on every new revision of a key. Failures are
 * `LcmError`s with the code the agent sent (`not_found`, `not_synced`, `stale` ...), or
 * `unavailable` when the agent cannot be reached.
 */
export class ConfigClient {
  private readonly cache = new Map<string, { etag: string; read: ConfigRead<JsonValue> }>();
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ConfigClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The current value of `key`. */
  async get<T = JsonValue>(key: string): Promise<ConfigRead<T>> {
    const cached = this.cache.get(key);
    const query =
      this.options.maxStalenessMs === undefined
        ? ''
        : `?max_staleness_ms=${this.options.maxStalenessMs}`;
    const response = await this.request(`/entries/${encodeKey(key)}${query}`, {
      ...(cached && { 'if-none-match': cached.etag }),
    });

    if (response.status === 304 && cached !== undefined) {
      const read = { ...cached.read, ...readHeaders(response, cached.read.revision) };
      return read as ConfigRead<T>;
    }
    if (!response.ok) throw await errorOf(response);

    const value = (await response.json()) as JsonValue;
    const etag = response.headers.get('etag') ?? '';
    const read = { value, ...readHeaders(response, revisionOf(etag)) };
    this.cache.set(key, { etag, read });
    return read as ConfigRead<T>;
  }

  /** Keys under `prefix`, with their revisions and hashes. */
  async list(prefix = ''): Promise<Array<{ key: string; revision: number; hash: string }>> {
    const response = await this.request(`/entries?prefix=${encodeURIComponent(prefix)}`);
    if (!response.ok) throw await errorOf(response);
    return (
      (await response.json()) as { items: Array<{ key: string; revision: number; hash: string }> }
    ).items;
  }

  /**
   * Calls `onChange` with each new value of `key` (null when it is deleted), starting after
   * revision `after` (by default the revision seen now, so only later changes call back).
   * Errors go to `onError` and the watch goes on.
   */
  watch<T = JsonValue>(
    key: string,
    onChange: (read: ConfigRead<T> | null) => void,
    options: { after?: number; timeoutMs?: number; onError?: (error: LcmError) => void } = {},
  ): ConfigWatch {
    const abort = new AbortController();
    const timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_WATCH_TIMEOUT_MS;

    const loop = async () => {
      let after = options.after ?? (await this.currentRevision(key));
      while (!abort.signal.aborted) {
        try {
          const response = await this.request(
            `/watch/${encodeKey(key)}?after=${after}&timeout_ms=${timeoutMs}`,
            {},
            abort.signal,
          );
          if (response.status === 304) continue;
          if (response.status === 404) {
            const tenantRevision = Number(response.headers.get('x-config-revision') ?? after);
            after = Math.max(after, tenantRevision);
            await response.body?.cancel();
            onChange(null);
            continue;
          }
          if (!response.ok) throw await errorOf(response);
          const value = (await response.json()) as T;
          const read = {
            value,
            ...readHeaders(response, revisionOf(response.headers.get('etag'))),
          };
          after = read.revision;
          onChange(read);
        } catch (error) {
          if (abort.signal.aborted) return;
          options.onError?.(toLcmError(error));
          await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
        }
      }
    };
    loop().catch((error: unknown) => options.onError?.(toLcmError(error)));
    return { stop: () => abort.abort() };
  }

  private async currentRevision(key: string): Promise<number> {
    try {
      return (await this.get(key)).revision;
    } catch {
      return 0;
    }
  }

  private async request(
    path: string,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = `${this.options.baseUrl}/v1/tenants/${this.options.tenant}${path}`;
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    try {
      return await this.fetch(url, { headers, ...(signal && { signal }) });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new LcmError('unavailable', `the agent at ${this.options.baseUrl} does not answer`, {
        cause: error,
      });
    }
  }
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function revisionOf(etag: string | null): number {
  return Number((etag ?? '').replaceAll('"', '').replace(/^W\//, '')) || 0;
}

function readHeaders(response: Response, revision: number) {
  return {
    revision,
    tenantRevision: Number(response.headers.get('x-config-revision') ?? revision),
    stalenessMs: Number(response.headers.get('x-config-staleness-ms') ?? 0),
  };
}

async function errorOf(response: Response): Promise<LcmError> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    const code = body.error?.code;
    if (isErrorCode(code)) return new LcmError(code, String(body.error?.message ?? code));
  } catch {
    // Not our error shape: fall through to a generic error with the status.
  }
  return new LcmError('unavailable', `the agent answered HTTP ${response.status}`);
}

function toLcmError(error: unknown): LcmError {
  return error instanceof LcmError
    ? error
    : new LcmError('unavailable', 'the watch failed', { cause: error });
}
