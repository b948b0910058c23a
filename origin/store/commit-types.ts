import type { ChangeOp, EntryKind, JsonValue, Revision } from '../../core/index.ts';

/** One change asked of a commit. */
export type ChangeInput =
  | {
      op: 'put';
      key: string;
      value: JsonValue;
      /** Defaults to `config`; secrets are stored with `secret` and their envelope as value. */
      kind?: EntryKind;
    }
  | {
      op: 'patch';
      key: string;
      /** The patch document: RFC 6902 operations, or an RFC 7396 merge patch. */
      patch: unknown;
      /** Which patch format `patch` is in; defaults to `json-patch`. */
      format?: 'json-patch' | 'merge-patch';
    }
  | {
      op: 'delete';
      key: string;
      /** The kind the key must hold; defaults to `config`. */
      kind?: EntryKind;
    };

/** Conditions and attribution of a commit. */
export interface CommitOptions {
  /** Token id of the writer, recorded in the change log and history. */
  actor: string;
  /**
   * The revision of its last change each key must have now; 0 means the key must not exist.
   * A mismatch fails the commit with `revision_mismatch`.
   */
  expect?: Record<string, Revision>;
  /** Keys that must not exist (`If-None-Match: *`); fails with `precondition_failed`. */
  absent?: string[];
  /** Keys that must exist (`If-Match: *`); fails with `precondition_failed`. */
  present?: string[];
}

/** What a commit did to one key. */
export interface CommittedChange {
  key: string;
  op: ChangeOp;
  kind: EntryKind;
  /** Content hash of the new value; null for a delete. */
  hash: string | null;
  /** Bytes of the new value's JSON text; 0 for a delete. */
  size: number;
}

/** The result of a successful commit. */
export interface CommitResult {
  tenant: string;
  /** The one revision every change of the commit got. */
  revision: Revision;
  /** Commit time, milliseconds since the Unix epoch. */
  at: number;
  changes: CommittedChange[];
}
