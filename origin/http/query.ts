import { LcmError, type Revision } from '../../core/index.ts';

/** Default and largest page size of listings. */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/** A revision from a query parameter; `bad_revision` unless it is a whole number >= 0. */
export function revisionParam(raw: string | undefined, name: string): Revision | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new LcmError('bad_revision', `${name} is a revision number`);
  return Number(raw);
}

/** A revision query parameter that must be present. */
export function requiredRevision(raw: string | undefined, name: string): Revision {
  const revision = revisionParam(raw, name);
  if (revision === undefined) throw new LcmError('bad_revision', `${name} is required`);
  return revision;
}

/** A page size from `limit`, 1 to {@link MAX_PAGE_LIMIT}. */
export function limitParam(raw: string | undefined, fallback = DEFAULT_PAGE_LIMIT): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new LcmError('bad_request', `limit is a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

/** An opaque listing cursor for the last key of a page. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** The key a cursor stands for; `bad_cursor` when it was not made by {@link encodeCursor}. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (cursor === '' || encodeCursor(key) !== cursor) {
    throw new LcmError('bad_cursor', 'the cursor is not one this server gave out');
  }
  return key;
}
