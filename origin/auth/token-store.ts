import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isKeyPrefix, isTenantId, LcmError } from '../../core/index.ts';
import type { OriginStore } from '../store/origin-store.ts';
import { type AccessGrant, ROLES, type Role } from './token-grant.ts';

/** What a new token may do. */
export interface TokenScope {
  role: Role;
  /** Tenant ids, or `*` for every tenant. */
  tenants: string[];
  /** Key prefixes the token is limited to; omit for every key. */
  prefixes?: string[];
  /** May read secret values in clear; always true for admins. */
  reveal?: boolean;
}

/** A token as listed: never its text. */
export interface TokenInfo extends Required<Omit<TokenScope, 'prefixes'>> {
  id: string;
  prefixes?: string[];
  createdAt: number;
}

/** Id of the admin token given by LCM_ADMIN_TOKEN; its text is not in our format. */
export const ENV_ADMIN_TOKEN_ID = 'admin-env';

const TOKEN_PREFIX = 'lcm';
const TOKEN_ID_BYTES = 8;
const TOKEN_SECRET_BYTES = 32;
const GENERATED_TOKEN = /^lcm_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Bearer tokens of the origin, stored as SHA-256 hashes. A generated token reads
 * `lcm_<id>_<secret>`: the id finds the row, and the hashes are compared in constant time.
 */
export class TokenStore {
  readonly #store: OriginStore;
  readonly #revokeListeners = new Set<(tokenId: string) => void>();

  constructor(store: OriginStore) {
    this.#store = store;
  }

  /** Creates a token and returns its text, which is shown only this once. */
  async create(scope: TokenScope): Promise<{ id: string; token: string }> {
    const checked = checkScope(scope);
    const id = randomBytes(TOKEN_ID_BYTES).toString('hex');
    const token = `${TOKEN_PREFIX}_${id}_${randomBytes(TOKEN_SECRET_BYTES).toString('base64url')}`;
    await this.#insert(id, sha256(token), checked);
    return { id, token };
  }

  /**
   * Makes sure an admin can get in: with `envToken` (LCM_ADMIN_TOKEN) that text becomes the
   * admin token; otherwise, when the store has no token at all, a new admin token is created
   * and returned so the caller can hand it to the operator.
   */
  async ensureAdmin(envToken: string | undefined): Promise<{ token?: string }> {
    if (envToken !== undefined) {
      await this.#store.writes.run(async (tx) => {
        await tx.execute({
          sql: `INSERT INTO tokens (id, hash, role, tenants, prefixes, reveal, created_at)
                VALUES (?, ?, 'admin', '["*"]', NULL, 1, ?)
                ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, revoked_at = NULL`,
          args: [ENV_ADMIN_TOKEN_ID, sha256(envToken).toString('hex'), Date.now()],
        });
        return { result: undefined };
      });
      return {};
    }

    const existing = await this.#store.database.execute('SELECT COUNT(*) FROM tokens');
    if (Number(existing.rows[0]?.[0]) > 0) return {};
    const { token } = await this.create({ role: 'admin', tenants: ['*'] });
    return { token };
  }

  /** Resolves a bearer token to its grant, or null when it is unknown or revoked. */
  async authenticate(token: string): Promise<AccessGrant | null> {
    const id = GENERATED_TOKEN.exec(token)?.[1] ?? ENV_ADMIN_TOKEN_ID;
    const result = await this.#store.database.execute({
      sql: `SELECT hash, role, tenants, prefixes, reveal FROM tokens
            WHERE id = ? AND revoked_at IS NULL`,
      args: [id],
    });
    const row = result.rows[0];
    if (row === undefined) return null;

    const stored = Buffer.from(String(row[0]), 'hex');
    const presented = sha256(token);
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return null;

    const grant: AccessGrant = {
      tokenId: id,
      role: String(row[1]) as Role,
      tenants: JSON.parse(String(row[2])) as string[],
      reveal: Number(row[4]) === 1,
    };
    if (row[3] !== null) grant.prefixes = JSON.parse(String(row[3])) as string[];
    return grant;
  }

  /** Every token that is not revoked, oldest first. */
  async list(): Promise<TokenInfo[]> {
    const result = await this.#store.database.execute(
      `SELECT id, role, tenants, prefixes, reveal, created_at FROM tokens
       WHERE revoked_at IS NULL ORDER BY created_at, id`,
    );
    return result.rows.map((row) => {
      const info: TokenInfo = {
        id: String(row[0]),
        role: String(row[1]) as Role,
        tenants: JSON.parse(String(row[2])) as string[],
        reveal: Number(row[4]) === 1,
        createdAt: Number(row[5]),
      };
      if (row[3] !== null) info.prefixes = JSON.parse(String(row[3])) as string[];
      return info;
    });
  }

  /**
   * Revokes a token at once, and tells every {@link onRevoke} listener (the replication hub
   * closes that token's agent connections); false when there is no such live token.
   */
  async revoke(id: string): Promise<boolean> {
    const revoked = await this.#store.writes.run(async (tx) => {
      const result = await tx.execute({
        sql: 'UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
        args: [Date.now(), id],
      });
      return { result: result.rowsAffected === 1 };
    });
    if (revoked) for (const listener of this.#revokeListeners) listener(id);
    return revoked;
  }

  /** Calls `listener` with the id of every token revoked from now on; returns an unsubscribe. */
  onRevoke(listener: (tokenId: string) => void): () => void {
    this.#revokeListeners.add(listener);
    return () => this.#revokeListeners.delete(listener);
  }

  async #insert(
    id: string,
    hash: Buffer,
    scope: Required<Omit<TokenScope, 'prefixes'>> & {
      prefixes?: string[];
    },
  ) {
    await this.#store.writes.run(async (tx) => {
      await tx.execute({
        sql: `INSERT INTO tokens (id, hash, role, tenants, prefixes, reveal, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?)`,
        args: [
          id,
          hash.toString('hex'),
          scope.role,
          JSON.stringify(scope.tenants),
          scope.prefixes === undefined ? null : JSON.stringify(scope.prefixes),
          scope.reveal ? 1 : 0,
          Date.now(),
        ],
      });
      return { result: undefined };
    });
  }
}

function checkScope(scope: TokenScope) {
  if (!ROLES.includes(scope.role)) {
    throw new LcmError('bad_request', `role is one of ${ROLES.join(', ')}`);
  }
  if (!Array.isArray(scope.tenants) || scope.tenants.length === 0) {
    throw new LcmError('bad_request', 'tenants is a non-empty list of tenant ids or "*"');
  }
  for (const tenant of scope.tenants) {
    if (tenant !== '*' && !(typeof tenant === 'string' && isTenantId(tenant))) {
      throw new LcmError('bad_tenant', 'tenant ids match [a-z0-9][a-z0-9-]{0,62}');
    }
  }
  if (scope.prefixes !== undefined) {
    if (!Array.isArray(scope.prefixes)) {
      throw new LcmError('bad_request', 'prefixes is a list of key prefixes');
    }
    for (const prefix of scope.prefixes) {
      if (typeof prefix !== 'string' || prefix === '' || !isKeyPrefix(prefix)) {
        throw new LcmError('bad_key', 'each prefix is a key or a key followed by a slash');
      }
    }
  }
  if (scope.reveal !== undefined && typeof scope.reveal !== 'boolean') {
    throw new LcmError('bad_request', 'reveal is true or false');
  }
  const reveal = scope.role === 'admin' || scope.reveal === true;
  const checked = { role: scope.role, tenants: [...scope.tenants], reveal };
  return scope.prefixes === undefined ? checked : { ...checked, prefixes: [...scope.prefixes] };
}
