import type { JsonValue } from '../../core/index.ts';

/** One change of a commit, as `POST /v1/tenants/{t}/commits` takes it. */
export type CommitChange =
  | { op: 'put'; key: string; value: JsonValue }
  | { op: 'delete'; key: string };

/** A small client of the origin's writer API, for setting up benchmarks. */
export class OriginApi {
  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  async #call(method: string, path: string, body?: string, contentType?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    const response = await fetch(`${this.#url}/v1${path}`, { method, headers, body });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  /** Creates the tenant (or leaves it as it is). */
  async createTenant(tenant: string): Promise<void> {
    await this.#call('PUT', `/tenants/${tenant}`, '{}');
  }

  /** The tenant's head revision. */
  async headRevision(tenant: string): Promise<number> {
    const body = await this.#call('GET', `/tenants/${tenant}`);
    return Number(body.headRevision);
  }

  /** A new agent token for `tenants`. */
  async createAgentToken(tenants: string[]): Promise<string> {
    const body = await this.#call('POST', '/tokens', JSON.stringify({ role: 'agent', tenants }));
    const token = body.token ?? body.secret;
    if (typeof token !== 'string') throw new Error(`no token in ${JSON.stringify(body)}`);
    return token;
  }

  /** Writes a whole value; returns the new revision. */
  async put(tenant: string, key: string, valueText: string): Promise<number> {
    const body = await this.#call('PUT', `/tenants/${tenant}/entries/${key}`, valueText);
    return Number(body.revision);
  }

  /** Commits several changes at once; returns the new revision. */
  async commit(tenant: string, changes: CommitChange[]): Promise<number> {
    const body = await this.#call(
      'POST',
      `/tenants/${tenant}/commits`,
      JSON.stringify({ changes }),
    );
    return Number(body.revision);
  }
}
