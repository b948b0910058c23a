import { canonicalJson, type JsonValue } from '../core/index.ts';
import type { CommitChange, EntrySummary } from './origin-client.ts';

/** A local file as the planner sees it. */
export interface LocalEntry {
  key: string;
  file: string;
  value: JsonValue;
  /** Content hash of `value` (core's contentHash). */
  hash: string;
  /** `secret` for a file from `--secrets`: sealed by the origin, added only when absent. */
  kind?: 'secret';
}

/** A key whose file differs from the origin. */
export interface PlannedChange extends LocalEntry {
  /** The key's revision at the origin when the plan was made. */
  revision: number;
  /** The value at the origin, when it was read to compare. */
  previous?: JsonValue;
}

/** What `apply` will do. */
export interface ApplyPlan {
  adds: LocalEntry[];
  changes: PlannedChange[];
  /** Keys at the origin that no file names, deleted only with `--prune`. */
  deletes: EntrySummary[];
  /** Keys whose file equals the origin's value. */
  unchanged: string[];
  /**
   * Secrets at the origin that apply leaves alone: those no file names (`--prune` never deletes
   * a secret), and those a secret file names, whose values are not compared.
   */
  keptSecrets: string[];
  /** Keys whose file differs from the origin but that `addOnly` leaves as they are. */
  keptChanged: string[];
}

/** The origin value of a key, read when hashes differ. */
export type ReadRemoteValue = (key: string) => Promise<JsonValue>;

/**
 * Compares local files with the keys at the origin. A key whose hash matches is unchanged; when
 * the hashes differ the origin's value is read and compared as canonical JSON, so that a
 * different hashing of equal values never shows up as a change. Keys at the origin without a
 * file are deletes only when `prune` is on, and never secrets. With `addOnly`, keys that exist
 * are left as they are, whatever their value.
 */
export async function planApply(
  local: LocalEntry[],
  remote: EntrySummary[],
  options: { prune: boolean; addOnly?: boolean; readRemote: ReadRemoteValue },
): Promise<ApplyPlan> {
  const remoteByKey = new Map(remote.map((entry) => [entry.key, entry]));
  const plan: ApplyPlan = {
    adds: [],
    changes: [],
    deletes: [],
    unchanged: [],
    keptSecrets: [],
    keptChanged: [],
  };

  for (const entry of local) {
    const existing = remoteByKey.get(entry.key);
    if (!existing) {
      plan.adds.push(entry);
      continue;
    }
    if (entry.kind === 'secret') {
      // A secret's plaintext is not readable with every token: it is added, never compared.
      plan.keptSecrets.push(entry.key);
      continue;
    }
    if (existing.hash === entry.hash) {
      plan.unchanged.push(entry.key);
      continue;
    }
    if (options.addOnly) {
      plan.keptChanged.push(entry.key);
      continue;
    }

    const previous = await options.readRemote(entry.key);
    if (canonicalJson(previous) === canonicalJson(entry.value)) plan.unchanged.push(entry.key);
    else plan.changes.push({ ...entry, revision: existing.revision, previous });
  }

  const localKeys = new Set(local.map((entry) => entry.key));
  for (const entry of remote) {
    if (localKeys.has(entry.key)) continue;
    if (entry.kind === 'secret') plan.keptSecrets.push(entry.key);
    else if (options.prune) plan.deletes.push(entry);
  }
  return plan;
}

/** True when the plan changes nothing. */
export function isEmptyPlan(plan: ApplyPlan): boolean {
  return plan.adds.length + plan.changes.length + plan.deletes.length === 0;
}

/** Revision the origin expects for a key that must not exist yet. */
export const ABSENT_REVISION = 0;

/**
 * The one commit that carries out a plan, with an expectation on every key it touches: the
 * revision seen for changes and deletes, {@link ABSENT_REVISION} for adds. A key changed by
 * someone else after planning makes the whole commit fail.
 */
export function commitOfPlan(plan: ApplyPlan): {
  changes: CommitChange[];
  expect: Record<string, number>;
} {
  const changes: CommitChange[] = [];
  const expect: Record<string, number> = {};

  for (const entry of plan.adds) {
    const kind = entry.kind === 'secret' ? { kind: entry.kind } : {};
    changes.push({ op: 'put', key: entry.key, value: entry.value, ...kind });
    expect[entry.key] = ABSENT_REVISION;
  }
  for (const entry of plan.changes) {
    changes.push({ op: 'put', key: entry.key, value: entry.value });
    expect[entry.key] = entry.revision;
  }
  for (const entry of plan.deletes) {
    changes.push({ op: 'delete', key: entry.key });
    expect[entry.key] = entry.revision;
  }
  return { changes, expect };
}
