import type { JsonPatch } from './json-patch.ts';
import type { JsonValue } from './json-value.ts';

/** A tenant's revision: 1, 2, 3 ... without gaps; 0 means nothing committed yet. */
export type Revision = number;

/**
 * A random id created with a store. Revisions are only comparable within one epoch: a store
 * restored from backup, or replaced, has a new epoch.
 */
export type StoreEpoch = string;

/** What a change did to its key. */
export type ChangeOp = 'put' | 'patch' | 'delete';

/** Whether an entry is plain configuration or an encrypted secret. */
export type EntryKind = 'config' | 'secret';

/**
 * One record of the change log: what one commit did to one key. A commit that changes several
 * keys writes one record per key, all with the same revision.
 */
export interface ChangeRecord {
  /** The tenant revision of the commit. */
  revision: Revision;
  /** The key changed. */
  key: string;
  /** What the commit did to the key. */
  op: ChangeOp;
  /** Whether the key holds a config or a secret. */
  kind: EntryKind;
  /**
   * RFC 6902 patch from the previous value to the new one, for configs. Null for deletes and for
   * secrets, which travel whole as ciphertext.
   */
  patch: JsonPatch | null;
  /** Content hash of the new value; null for a delete. */
  hash: string | null;
  /** Token id of the writer. */
  actor: string;
  /** Commit time, milliseconds since the Unix epoch. */
  at: number;
}

/** The current state of one key. */
export interface Entry {
  key: string;
  kind: EntryKind;
  value: JsonValue;
  /** Tenant revision of the last change of this key. */
  revision: Revision;
  hash: string;
}
