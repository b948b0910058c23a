import type { Context } from 'hono';
import { assertEntryKey, assertTenantId, LcmError } from '../../core/index.ts';
import { type AccessGrant, canWrite, grantsKey, grantsTenant } from '../auth/token-grant.ts';
import type { AppEnv } from './app-env.ts';

/** What a request wants to do with a tenant's resources. */
export type Access = 'read' | 'write';

/**
 * Checks the tenant id and the token's reach, and returns the tenant. A token outside its
 * scope learns nothing, not even that the tenant exists: it gets `not_found`. A token in scope
 * without the right to write gets `forbidden`.
 */
export function tenantAccess(c: Context<AppEnv>, access: Access): string {
  const tenant = c.req.param('tenant') ?? '';
  assertTenantId(tenant);
  const grant = c.get('grant');
  if (!grantsTenant(grant, tenant)) throw new LcmError('not_found', 'no such tenant');
  if (access === 'write' && !canWrite(grant)) {
    throw new LcmError('forbidden', `${withArticle(grant.role)} token may not write`);
  }
  return tenant;
}

/** `role` with its indefinite article: "a reader", "an agent". */
function withArticle(role: string): string {
  return /^[aeiou]/i.test(role) ? `an ${role}` : `a ${role}`;
}

/** Checks a key's grammar and that the token reaches it; `not_found` when it does not. */
export function keyAccess(grant: AccessGrant, key: string): string {
  assertEntryKey(key);
  if (!grantsKey(grant, key)) throw new LcmError('not_found', `no entry at ${key}`);
  return key;
}

/** The `{key}` path parameter, checked against the token's prefixes. */
export function pathKey(c: Context<AppEnv>): string {
  return keyAccess(c.get('grant'), c.req.param('key') ?? '');
}

/** Refuses the request unless the token is an admin's. */
export function requireAdmin(c: Context<AppEnv>): void {
  if (c.get('grant').role !== 'admin') {
    throw new LcmError('forbidden', 'only an admin token may do this');
  }
}
