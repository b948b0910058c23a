import type { Transaction } from '@libsql/client';
import {
  applyJsonPatch,
  applyMergePatch,
  assertEntryKey,
  assertJsonValue,
  assertTenantId,
  diffValues,
  type EntryKind,
  type JsonPatch,
  type JsonValue,
  jsonByteLength,
  LcmError,
  type ValueLimits,
} from '../../core/index.ts';
import type { ReplicatedChange } from '../replication/contract.ts';
import type { ChangeInput, CommitOptions, CommitResult } from './commit-types.ts';
import { contentHashSync } from './content-hash-node.ts';
import { headInTransaction } from './entry-reader.ts';
import { packVersion } from './value-codec.ts';

interface CurrentEntry {
  kind: EntryKind;
  value: JsonValue;
  revision: number;
}

interface PlannedChange {
  input: ChangeInput;
  kind: EntryKind;
  /** The new value; undefined for a delete. */
  value: JsonValue | undefined;
  previous: CurrentEntry | undefined;
}

/** A commit written inside a transaction, with what replication must hear once it is durable. */
export interface WrittenCommit {
  result: CommitResult;
  replicated: ReplicatedChange[];
}

const BANNED_POINTER_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Writes one commit inside `tx`: checks the tenant, keys and preconditions, computes every new
 * value, and records entries, versions and change records at the tenant's next revision.
 * Throws an LcmError, and the caller rolls the transaction (or savepoint) back, on any failure.
 */
export async function writeCommit(
  tx: Transaction,
  tenant: string,
  changes: ChangeInput[],
  options: CommitOptions,
  limits: ValueLimits,
): Promise<WrittenCommit> {
  assertTenantId(tenant);
  if (changes.length === 0) throw new LcmError('bad_request', 'a commit needs at least one change');
  assertDistinctKeys(changes);

  const head = await headInTransaction(tx, tenant);
  const planned: PlannedChange[] = [];
  for (const input of changes) {
    const previous = await readCurrent(tx, tenant, input.key);
    planned.push(planChange(input, previous, limits));
  }
  await checkPreconditions(tx, tenant, options);

  const revision = head + 1;
  const at = Date.now();
  const result: CommitResult = { tenant, revision, at, changes: [] };
  const replicated: ReplicatedChange[] = [];

  for (const change of planned) {
    const written = await writeChange(tx, tenant, revision, at, options.actor, change);
    result.changes.push(written.committed);
    replicated.push(written.replicated);
  }
  await tx.execute({
    sql: 'UPDATE tenants SET head_revision = ? WHERE id = ?',
    args: [revision, tenant],
  });
  return { result, replicated };
}

function assertDistinctKeys(changes: ChangeInput[]): void {
  const seen = new Set<string>();
  for (const change of changes) {
    if (typeof change?.key !== 'string') throw new LcmError('bad_key', 'every change needs a key');
    assertEntryKey(change.key);
    if (seen.has(change.key)) {
      throw new LcmError('bad_request', `the key ${change.key} appears twice in one commit`);
    }
    seen.add(change.key);
  }
}

async function readCurrent(tx: Transaction, tenant: string, key: string) {
  const result = await tx.execute({
    sql: 'SELECT kind, value, revision FROM entries WHERE tenant = ? AND key = ?',
    args: [tenant, key],
  });
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return {
    kind: String(row[0]) as EntryKind,
    value: JSON.parse(String(row[1])) as JsonValue,
    revision: Number(row[2]),
  };
}

function planChange(
  input: ChangeInput,
  previous: CurrentEntry | undefined,
  limits: ValueLimits,
): PlannedChange {
  if (input.op === 'delete') {
    const kind = input.kind ?? 'config';
    if (previous === undefined) throw new LcmError('not_found', `no entry at ${input.key}`);
    assertSameKind(input.key, previous, kind);
    return { input, kind, value: undefined, previous };
  }

  if (input.op === 'put') {
    const kind = input.kind ?? 'config';
    if (previous !== undefined) assertSameKind(input.key, previous, kind);
    assertStorable(input.value, limits);
    return { input, kind, value: input.value, previous };
  }

  if (input.op === 'patch') {
    if (previous !== undefined) assertSameKind(input.key, previous, 'config');
    const value =
      input.format === 'merge-patch'
        ? applyMergePatch(previous?.value, checkedMergePatch(input.patch, limits))
        : applyJsonPatch(previous?.value, input.patch);
    assertStorable(value, limits);
    return { input, kind: 'config', value, previous };
  }

  throw new LcmError('bad_request', 'a change op is put, patch or delete');
}

function checkedMergePatch(patch: unknown, limits: ValueLimits): JsonValue {
  assertJsonValue(patch, limits);
  return patch;
}

function assertSameKind(key: string, previous: CurrentEntry, kind: EntryKind): void {
  if (previous.kind === kind) return;
  throw new LcmError('conflict', `the entry at ${key} is a ${previous.kind}, not a ${kind}`);
}

function assertStorable(value: JsonValue, limits: ValueLimits): void {
  assertJsonValue(value, limits);
  if (jsonByteLength(value) > limits.maxBytes) {
    throw new LcmError('too_large', `the value is larger than ${limits.maxBytes} bytes`);
  }
}

async function checkPreconditions(tx: Transaction, tenant: string, options: CommitOptions) {
  for (const [key, expected] of Object.entries(options.expect ?? {})) {
    const actual = await lastChangeRevision(tx, tenant, key);
    if (actual !== expected) {
      throw new LcmError(
        'revision_mismatch',
        `${key} was last changed at revision ${actual}, not ${expected}`,
      );
    }
  }
  for (const key of options.absent ?? []) {
    if ((await lastChangeRevision(tx, tenant, key)) !== 0) {
      throw new LcmError('precondition_failed', `${key} already exists`);
    }
  }
  for (const key of options.present ?? []) {
    if ((await lastChangeRevision(tx, tenant, key)) === 0) {
      throw new LcmError('precondition_failed', `${key} does not exist`);
    }
  }
}

async function lastChangeRevision(tx: Transaction, tenant: string, key: string) {
  const result = await tx.execute({
    sql: 'SELECT revision FROM entries WHERE tenant = ? AND key = ?',
    args: [tenant, key],
  });
  return Number(result.rows[0]?.[0] ?? 0);
}

async function writeChange(
  tx: Transaction,
  tenant: string,
  revision: number,
  at: number,
  actor: string,
  change: PlannedChange,
) {
  const { input, kind, value } = change;
  const key = input.key;
  const op = input.op;

  if (value === undefined) {
    await tx.batch([
      { sql: 'DELETE FROM entries WHERE tenant = ? AND key = ?', args: [tenant, key] },
      {
        sql: `INSERT INTO versions (tenant, key, revision, op, kind, value, hash, size, actor, at)
              VALUES (?, ?, ?, 'delete', ?, NULL, NULL, 0, ?, ?)`,
        args: [tenant, key, revision, kind, actor, at],
      },
      {
        sql: `INSERT INTO changes (tenant, revision, key, op, kind, patch, hash, actor, at)
              VALUES (?, ?, ?, 'delete', ?, NULL, NULL, ?, ?)`,
        args: [tenant, revision, key, kind, actor, at],
      },
    ]);
    const record = { revision, key, op, kind, patch: null, hash: null, actor, at };
    return { committed: { key, op, kind, hash: null, size: 0 }, replicated: { record } };
  }

  const text = JSON.stringify(value);
  const size = Buffer.byteLength(text);
  const hash = contentHashSync(value);
  const patch = kind === 'secret' ? null : changeLogPatch(change.previous?.value, value);

  await tx.batch([
    {
      sql: `INSERT INTO entries (tenant, key, kind, value, revision, hash, size)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, key) DO UPDATE SET kind = excluded.kind,
              value = excluded.value, revision = excluded.revision, hash = excluded.hash,
              size = excluded.size`,
      args: [tenant, key, kind, text, revision, hash, size],
    },
    {
      sql: `INSERT INTO versions (tenant, key, revision, op, kind, value, hash, size, actor, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [tenant, key, revision, op, kind, packVersion(text), hash, size, actor, at],
    },
    {
      sql: `INSERT INTO changes (tenant, revision, key, op, kind, patch, hash, actor, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [tenant, revision, key, op, kind, patch && JSON.stringify(patch), hash, actor, at],
    },
  ]);
  const record = { revision, key, op, kind, patch, hash, actor, at };
  const replicated = kind === 'secret' ? { record, value } : { record };
  return { committed: { key, op, kind, hash, size }, replicated };
}

/**
 * The patch the change log records: the RFC 6902 diff from the previous value. A config may hold
 * members named `constructor` or `prototype`, which a safe patch may not touch, so a diff that
 * touches one is replaced by one `replace` of the whole value, which still replays exactly.
 */
export function changeLogPatch(previous: JsonValue | undefined, next: JsonValue): JsonPatch {
  const patch = diffValues(previous, next);
  const touchesBanned = patch.some((operation) =>
    [operation.path, 'from' in operation ? operation.from : '']
      .flatMap((pointer) => pointer.split('/'))
      .some((segment) => BANNED_POINTER_SEGMENTS.has(segment)),
  );
  if (!touchesBanned) return patch;
  return [{ op: 'replace', path: '', value: structuredClone(next) }];
}
