import type { Context } from 'hono';
import { LcmError, type Revision } from '../../core/index.ts';
import type { CommitOptions } from '../store/commit-types.ts';

const ENTITY_TAG = /^(?:W\/)?"?(\d{1,15})"?$/;

/** The entity tag of an entry: its last change's revision, quoted. */
export function entityTag(revision: Revision): string {
  return `"${revision}"`;
}

/**
 * Turns `If-Match` and `If-None-Match: *` on a write of `key` into commit conditions:
 * `If-Match: "<revision>"` expects that last-change revision, `If-Match: *` that the key exists,
 * `If-None-Match: *` that it does not.
 */
export function writeConditions(
  c: Context,
  key: string,
): Pick<CommitOptions, 'expect' | 'absent' | 'present'> {
  const conditions: Pick<CommitOptions, 'expect' | 'absent' | 'present'> = {};
  const ifMatch = c.req.header('if-match')?.trim();
  const ifNoneMatch = c.req.header('if-none-match')?.trim();

  if (ifMatch !== undefined && ifMatch !== '') {
    if (ifMatch === '*') conditions.present = [key];
    else conditions.expect = { [key]: parseEntityTag(ifMatch, 'If-Match') };
  }
  if (ifNoneMatch !== undefined && ifNoneMatch !== '') {
    if (ifNoneMatch !== '*') {
      throw new LcmError('bad_request', 'on a write, If-None-Match supports only *');
    }
    conditions.absent = [key];
  }
  return conditions;
}

/** The revision in an entity tag such as `"12"`; `bad_revision` for anything else. */
export function parseEntityTag(tag: string, header: string): Revision {
  const match = ENTITY_TAG.exec(tag.trim());
  if (match === null) {
    throw new LcmError('bad_revision', `${header} takes one entity tag such as "12"`);
  }
  return Number(match[1]);
}

/** True when a GET's `If-None-Match` already names the entry's current entity tag. */
export function notModified(c: Context, revision: Revision): boolean {
  const header = c.req.header('if-none-match');
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || ENTITY_TAG.exec(trimmed)?.[1] === String(revision);
  });
}
