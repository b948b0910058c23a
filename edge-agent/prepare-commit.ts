import { applyJsonPatch, type JsonValue, LcmError } from '../core/index.ts';
import type { DeltaCommit } from '../protocol/index.ts';
import { contentHashSync } from './content-hash-node.ts';
import { type IndexChange, type IndexedTenant, indexedFromValue } from './entry-index.ts';
import type { ReplicaChange } from './replica.ts';

/** A commit checked and turned into what the replica and the index will store. */
export interface PreparedCommit {
  replicaChanges: ReplicaChange[];
  indexChanges: IndexChange[];
}

/**
 * Rebuilds every value a commit changes from what `state` holds, and checks it: the commit must
 * be the tenant's next revision (`revision_gap` otherwise), each patch must apply
 * (`patch_conflict` or `invalid_patch`), and each rebuilt config must have the content hash the
 * origin sent (`hash_mismatch`). Nothing is changed here: `state` and the commit are only read.
 *
 * Secrets are stored as the origin sent them; their hash is not recomputed, since it is the
 * secrets layer that can open and check them.
 */
export function prepareCommit(
  tenant: string,
  state: IndexedTenant,
  commit: DeltaCommit,
): PreparedCommit {
  if (commit.revision !== state.revision + 1) {
    throw new LcmError(
      'revision_gap',
      `tenant ${tenant} is at revision ${state.revision}; got revision ${commit.revision}`,
    );
  }

  const changed = new Map<string, IndexChange>();
  const texts = new Map<string, string>();
  for (const change of commit.changes) {
    if (change.op === 'delete') {
      changed.set(change.key, { tenant, key: change.key, revision: commit.revision, entry: null });
      continue;
    }

    const current = changed.has(change.key)
      ? (changed.get(change.key)!.entry ?? undefined)
      : state.entries.get(change.key);
    const value: JsonValue =
      change.value !== undefined ? change.value : applyJsonPatch(current?.value, change.patch);

    if (change.kind === 'config' && contentHashSync(value) !== change.hash) {
      throw new LcmError(
        'hash_mismatch',
        `key ${change.key} of tenant ${tenant} at revision ${commit.revision} does not match its hash`,
      );
    }

    const valueJson = JSON.stringify(value);
    texts.set(change.key, valueJson);
    const entry = indexedFromValue(
      { key: change.key, kind: change.kind, value, revision: commit.revision, hash: change.hash! },
      valueJson,
    );
    changed.set(change.key, { tenant, key: change.key, revision: commit.revision, entry });
  }

  const indexChanges = [...changed.values()];
  const replicaChanges = indexChanges.map(({ key, entry }) => ({
    key,
    entry:
      entry === null
        ? null
        : {
            key,
            kind: entry.kind,
            valueJson: texts.get(key)!,
            revision: entry.revision,
            hash: entry.hash,
          },
  }));
  return { replicaChanges, indexChanges };
}
