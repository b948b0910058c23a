import { LcmError } from '../../core/index.ts';
import type { DeltaChange, DeltaCommit } from '../../protocol/index.ts';
import type { ReplicatedChange } from './contract.ts';

/**
 * Groups change records (in revision order) into whole commits as the protocol carries them.
 * A config change travels as its JSON Patch, or as its full value when the store supplied one
 * that is smaller; a secret always travels whole.
 */
export function toDeltaCommits(tenant: string, changes: ReplicatedChange[]): DeltaCommit[] {
  const commits: DeltaCommit[] = [];
  for (const change of changes) {
    const { record } = change;
    let commit = commits.at(-1);
    if (commit?.revision !== record.revision) {
      commit = { tenant, revision: record.revision, at: record.at, changes: [] };
      commits.push(commit);
    }
    commit.changes.push(toDeltaChange(change));
  }
  return commits;
}

function toDeltaChange({ record, value }: ReplicatedChange): DeltaChange {
  const { key, op, kind, hash, patch } = record;
  if (op === 'delete') return { key, op, kind, hash: null };
  if (hash === null) throw new LcmError('internal', `change of ${key} has no hash`);

  if (kind === 'secret' || patch === null) {
    if (value === undefined) throw new LcmError('internal', `change of ${key} has no value`);
    return { key, op, kind, value, hash };
  }
  if (value !== undefined && JSON.stringify(value).length < JSON.stringify(patch).length) {
    return { key, op, kind, value, hash };
  }
  return { key, op, kind, patch, hash };
}
