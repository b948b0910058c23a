import type { JsonPatch, JsonValue } from '../core/index.ts';
import { CliError } from './cli-error.ts';
import { type HttpResponse, httpRequest } from './http.ts';

/** One key of a listing: its last revision and content hash. */
export interface EntrySummary {
  key: string;
  revision: number;
  hash: string;
  /** `config` or `secret`, when the origin says it. */
  kind?: string;
}

/** A value read from the origin with the revision it reflects. */
export interface EntryRead {
  value: JsonValue;
  /** The revision of the key's last change (its ETag). */
  revision: number | undefined;
  /** The tenant revision the read reflects. */
  headRevision: number | undefined;
  /** The raw JSON text as the origin sent it. */
  text: string;
}

/** The origin's answer to a write. */
export interface WriteResult {
  key?: string;
  revision: number;
  hash?: string;
}

/** What the origin and agents show of a secret without revealing it. */
export interface SecretMetadata {
  key: string;
  revision: number;
  version: number;
  dekVersion?: number;
  createdAt?: number;
  rotatesAt?: number | null;
  previous?: { version: number; validUntil: number } | null;
  /** The version whose value `value` is, when revealed. */
  revealedVersion?: number;
}

/** One change of an atomic commit (`POST /tenants/{tenant}/commits`). */
export type CommitChange =
  | { op: 'put'; key: string; value: JsonValue; kind?: 'secret' }
  | { op: 'patch'; key: string; patch: JsonPatch }
  | { op: 'delete'; key: string };

/** Options of a single-key write. */
export interface WriteOptions {
  /** Only write when the key is at this revision (`If-Match`). */
  ifRevision?: number;
  /** Only write when the key does not exist (`If-None-Match: *`). */
  ifAbsent?: boolean;
}

/** The kinds of patch `lcm patch` sends. */
export type PatchFormat = 'json-patch' | 'merge-patch';

const PATCH_CONTENT_TYPES: Record<PatchFormat, string> = {
  'json-patch': 'application/json-patch+json',
  'merge-patch': 'application/merge-patch+json',
};

/** A thin client of the origin's `/v1` API, one method per route. */
export class OriginClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  /** `origin` is the origin's base URL, without `/v1`. */
  constructor(origin: string, token: string | undefined) {
    this.baseUrl = origin.replace(/\/+$/, '');
    this.#token = token;
  }

  /** The URL of an API path under `/v1`. */
  url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(`${this.baseUrl}/v1${path}`);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.href;
  }

  async #call(
    method: string,
    path: string,
    options: {
      query?: Record<string, string | number | undefined>;
      body?: unknown;
      contentType?: string;
      headers?: Record<string, string>;
      auth?: boolean;
    } = {},
  ): Promise<HttpResponse> {
    if (options.auth !== false && !this.#token) {
      throw new CliError(
        'auth',
        'no token: pass --token or --token-file, set LCM_TOKEN or LCM_TOKEN_FILE, ' +
          'or run next to a ./data/admin.token',
      );
    }
    return httpRequest({
      method,
      url: this.url(path, options.query),
      token: this.#token,
      body: options.body,
      contentType: options.contentType,
      headers: options.headers,
    });
  }

  async #json<T>(
    method: string,
    path: string,
    options?: Parameters<OriginClient['call']>[2],
  ): Promise<T> {
    const response = await this.#call(method, path, options);
    return parseBody<T>(response);
  }

  /** Sends any request under `/v1` and returns the raw answer; for commands without a helper. */
  call(
    method: string,
    path: string,
    options?: {
      query?: Record<string, string | number | undefined>;
      body?: unknown;
      contentType?: string;
      headers?: Record<string, string>;
      auth?: boolean;
    },
  ): Promise<HttpResponse> {
    return this.#call(method, path, options);
  }

  /** Creates the tenant, or does nothing when it exists; true when it was created. */
  async createTenant(tenant: string): Promise<boolean> {
    const response = await this.#call('PUT', `/tenants/${tenant}`, { body: {} });
    return response.status === 201;
  }

  /** Every tenant the token may see. */
  async listTenants(): Promise<unknown> {
    return this.#json('GET', '/tenants');
  }

  /** Reads a key, optionally at a revision or a snapshot. */
  async getEntry(
    tenant: string,
    key: string,
    at: { revision?: number; snapshot?: string } = {},
  ): Promise<EntryRead> {
    const response = await this.#call('GET', entryPath(tenant, key), {
      query: { revision: at.revision, snapshot: at.snapshot },
    });
    return {
      value: parseBody(response),
      revision: revisionOf(response),
      headRevision: headRevisionOf(response),
      text: response.text,
    };
  }

  /** Writes a whole value. */
  async putEntry(
    tenant: string,
    key: string,
    value: JsonValue,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.putEntryText(tenant, key, JSON.stringify(value), options);
  }

  /** Writes a whole value given as its JSON text, sent as it is. */
  async putEntryText(
    tenant: string,
    key: string,
    json: string | Uint8Array,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#json('PUT', entryPath(tenant, key), {
      body: json,
      headers: conditionHeaders(options),
    });
  }

  /** Applies an RFC 6902 or RFC 7396 patch to a key. */
  async patchEntry(
    tenant: string,
    key: string,
    patch: JsonValue,
    format: PatchFormat,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#json('PATCH', entryPath(tenant, key), {
      body: JSON.stringify(patch),
      contentType: PATCH_CONTENT_TYPES[format],
      headers: conditionHeaders(options),
    });
  }

  /** Deletes a key. */
  async deleteEntry(tenant: string, key: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.#json('DELETE', entryPath(tenant, key), { headers: conditionHeaders(options) });
  }

  /** Every key under `prefix`, following the listing's cursor to the end. */
  async listEntries(tenant: string, prefix = ''): Promise<EntrySummary[]> {
    const entries: EntrySummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#json<{ items: EntrySummary[]; next?: string | null }>(
        'GET',
        `/tenants/${tenant}/entries`,
        { query: { prefix: prefix || undefined, cursor, limit: LIST_PAGE_SIZE } },
      );
      entries.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor);
    return entries;
  }

  /** Commits every change at once, or none when an expectation fails. */
  async commit(
    tenant: string,
    changes: CommitChange[],
    expect?: Record<string, number>,
  ): Promise<{ revision: number }> {
    return this.#json('POST', `/tenants/${tenant}/commits`, {
      body: expect ? { changes, expect } : { changes },
    });
  }

  /** The change history of a key, newest first; the origin's default page when no limit. */
  async history(tenant: string, key: string, limit?: number): Promise<unknown[]> {
    return this.#json('GET', `/tenants/${tenant}/history/${key}`, { query: { limit } });
  }

  /** The RFC 6902 patch from one revision of a key to another. */
  async diff(tenant: string, key: string, from?: number, to?: number): Promise<JsonPatch> {
    return this.#json('GET', `/tenants/${tenant}/diff/${key}`, { query: { from, to } });
  }

  /** Restores an earlier revision of a key as a new revision. */
  async rollback(tenant: string, key: string, revision: number): Promise<WriteResult> {
    return this.#json('POST', `/tenants/${tenant}/rollback/${key}`, { body: { revision } });
  }

  /** Names a tenant revision (the head when `revision` is undefined). */
  async createSnapshot(tenant: string, name: string, revision?: number): Promise<unknown> {
    return this.#json('POST', `/tenants/${tenant}/snapshots`, { body: { name, revision } });
  }

  /** Every snapshot of a tenant. */
  async listSnapshots(tenant: string): Promise<unknown> {
    return this.#json('GET', `/tenants/${tenant}/snapshots`);
  }

  /** Creates a token; the secret part is in the answer only. */
  async createToken(grant: {
    role: string;
    tenants: string[];
    prefixes?: string[];
  }): Promise<{ id: string; token: string }> {
    return this.#json('POST', '/tokens', { body: grant });
  }

  /** Every token, without their secrets. */
  async listTokens(): Promise<unknown> {
    return this.#json('GET', '/tokens');
  }

  /** Revokes a token. */
  async revokeToken(id: string): Promise<void> {
    await this.#call('DELETE', `/tokens/${encodeURIComponent(id)}`);
  }

  /**
   * Writes a secret; with `overlapSeconds`, as a rotation during which the value it replaces
   * stays readable as the previous version.
   */
  async putSecret(
    tenant: string,
    key: string,
    value: JsonValue,
    options: { overlapSeconds?: number; ifRevision?: number } = {},
  ): Promise<SecretMetadata> {
    const body: Record<string, unknown> = { value };
    if (options.overlapSeconds !== undefined) {
      body.rotate = { overlapSeconds: options.overlapSeconds };
    }
    return this.#json('PUT', `/tenants/${tenant}/secrets/${key}`, {
      body,
      headers: conditionHeaders({ ifRevision: options.ifRevision }),
    });
  }

  /** Reads a secret's metadata, and with `reveal` its plaintext value. */
  async getSecret(
    tenant: string,
    key: string,
    options: { reveal?: boolean; previous?: boolean; revision?: number } = {},
  ): Promise<SecretMetadata & { value?: JsonValue }> {
    return this.#json('GET', `/tenants/${tenant}/secrets/${key}`, {
      query: {
        reveal: options.reveal ? 'true' : undefined,
        version: options.previous ? 'previous' : undefined,
        revision: options.revision,
      },
    });
  }

  /** The data key versions of a tenant and the state of its rotation. */
  async dataKeys(tenant: string): Promise<unknown> {
    return this.#json('GET', `/tenants/${tenant}/keys`);
  }

  /** Starts a new data key version for the tenant; old secrets are re-encrypted behind it. */
  async rotateDataKey(tenant: string): Promise<unknown> {
    return this.#json('POST', `/tenants/${tenant}/keys/rotate`, { body: {} });
  }

  /** Re-wraps every tenant's data keys under the current key-encryption key. */
  async rewrapDataKeys(): Promise<unknown> {
    return this.#json('POST', '/keys/rewrap', { body: {} });
  }

  /** The agents connected to this origin with their per-tenant progress. */
  async agents(): Promise<unknown> {
    return this.#json('GET', '/agents');
  }
}

/** How many keys one listing request asks for. */
export const LIST_PAGE_SIZE = 1000;

/** The path of an entry; keys are slash-separated segments that need no escaping. */
export function entryPath(tenant: string, key: string): string {
  return `/tenants/${tenant}/entries/${key}`;
}

/** The revision of the key an answer carries, from its `ETag` (`"<revision>"`). */
export function revisionOf(response: HttpResponse): number | undefined {
  return firstNumber(response.headers.get('etag'));
}

/** The tenant revision a read reflects, from `X-Config-Revision`. */
export function headRevisionOf(response: HttpResponse): number | undefined {
  return firstNumber(response.headers.get('x-config-revision'));
}

function firstNumber(header: string | null): number | undefined {
  const match = header?.match(/\d+/);
  return match ? Number(match[0]) : undefined;
}

/** Parses a JSON answer; an empty body reads as null. */
export function parseBody<T>(response: HttpResponse): T {
  if (response.text === '') return null as T;
  try {
    return JSON.parse(response.text) as T;
  } catch (error) {
    throw new CliError(
      'server',
      `the server answered ${response.status} with a body that is not JSON`,
      {
        cause: error,
      },
    );
  }
}

function conditionHeaders(options: WriteOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.ifRevision !== undefined) headers['if-match'] = `"${options.ifRevision}"`;
  if (options.ifAbsent) headers['if-none-match'] = '*';
  return headers;
}

/** The items of a listing that is either an array or `{"items": [...]}`. */
export function itemsOf<T>(listing: unknown): T[] {
  if (Array.isArray(listing)) return listing as T[];
  const items = (listing as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}
