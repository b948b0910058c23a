import type { TokenGrant } from '../replication/contract.ts';

/** The roles a token can have. */
export const ROLES = ['admin', 'writer', 'reader', 'agent'] as const;

/** A token's role: what it may do within its scope. */
export type Role = (typeof ROLES)[number];

/**
 * Everything the origin knows of an authenticated token: the grant replication sees, plus key
 * prefixes and whether it may read secrets in clear.
 */
export interface AccessGrant extends TokenGrant {
  /** Key prefixes the token is limited to; undefined means every key of its tenants. */
  prefixes?: string[];
  /** Whether the token may read secret values in clear. Admins always may. */
  reveal: boolean;
}

/** True when the grant reaches `tenant` at all. */
export function grantsTenant(grant: AccessGrant, tenant: string): boolean {
  return grant.tenants.includes('*') || grant.tenants.includes(tenant);
}

/** True when the grant reaches `key` of a tenant it reaches. */
export function grantsKey(grant: AccessGrant, key: string): boolean {
  if (grant.prefixes === undefined || grant.prefixes.length === 0) return true;
  return grant.prefixes.some((prefix) => key.startsWith(prefix));
}

/** True when the grant may write entries (admins and writers). */
export function canWrite(grant: AccessGrant): boolean {
  return grant.role === 'admin' || grant.role === 'writer';
}
