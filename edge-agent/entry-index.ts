import type { EntryKind, JsonValue } from '../core/index.ts';
import type { ReplicaEntry, ReplicaTenant } from './replica.ts';

const utf8 = new TextEncoder();

/** One entry as reads are served: the value, and its JSON bytes and ETag made once. */
export interface IndexedEntry {
  key: string;
  kind: EntryKind;
  value: JsonValue;
  revision: number;
  hash: string;
  /** The value's JSON text as UTF-8 bytes, served as is. */
  body: Uint8Array<ArrayBuffer>;
  /** `"<revision>"`, the entry's ETag. */
  etag: string;
}

/** Everything the index holds of one tenant. */
export interface IndexedTenant {
  epoch: string;
  revision: number;
  lastSyncAt: number;
  entries: Map<string, IndexedEntry>;
}

/** A change readers may watch: a key now holds `entry`, or was deleted (`entry` null). */
export interface IndexChange {
  tenant: string;
  key: string;
  revision: number;
  entry: IndexedEntry | null;
}

/** Builds the served form of an entry from its JSON text. */
export function indexedFromReplica(entry: ReplicaEntry): IndexedEntry {
  return {
    key: entry.key,
    kind: entry.kind,
    value: JSON.parse(entry.valueJson) as JsonValue,
    revision: entry.revision,
    hash: entry.hash,
    body: utf8.encode(entry.valueJson),
    etag: `"${entry.revision}"`,
  };
}

/** Builds the served form of an entry from its value. */
export function indexedFromValue(
  entry: Omit<IndexedEntry, 'body' | 'etag'>,
  valueJson = JSON.stringify(entry.value),
): IndexedEntry {
  return { ...entry, body: utf8.encode(valueJson), etag: `"${entry.revision}"` };
}

/**
 * The agent's in-memory copy of its replica, from which every read is served: a Map lookup, no
 * query and no serialization. A commit's changes are applied in one synchronous step, so that no
 * reader ever sees part of a commit.
 */
export class EntryIndex {
  private readonly tenants = new Map<string, IndexedTenant>();
  private readonly listeners = new Set<(change: IndexChange) => void>();

  /** The tenant's state, or undefined when the agent holds nothing of it yet. */
  tenant(tenant: string): IndexedTenant | undefined {
    return this.tenants.get(tenant);
  }

  /** Every tenant the index holds. */
  tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  /** Replaces everything held of a tenant, after a snapshot or at start. */
  replaceTenant(tenant: string, cursor: Omit<ReplicaTenant, 'tenant'>, entries: IndexedEntry[]) {
    const previous = this.tenants.get(tenant);
    const next: IndexedTenant = { ...cursor, entries: new Map(entries.map((e) => [e.key, e])) };
    this.tenants.set(tenant, next);

    for (const entry of entries) {
      if (previous?.entries.get(entry.key)?.hash !== entry.hash) {
        this.emit({ tenant, key: entry.key, revision: next.revision, entry });
      }
    }
    for (const key of previous?.entries.keys() ?? []) {
      if (!next.entries.has(key)) this.emit({ tenant, key, revision: next.revision, entry: null });
    }
  }

  /** Applies one commit's changes and moves the tenant's cursor, all at once. */
  applyCommit(tenant: string, revision: number, at: number, changes: IndexChange[]): void {
    const state = this.tenants.get(tenant);
    if (state === undefined) return;

    for (const change of changes) {
      if (change.entry === null) state.entries.delete(change.key);
      else state.entries.set(change.key, change.entry);
    }
    state.revision = revision;
    state.lastSyncAt = at;
    for (const change of changes) this.emit(change);
  }

  /** Records that the origin was heard from about `tenant` at `at`. */
  touch(tenant: string, at: number): void {
    const state = this.tenants.get(tenant);
    if (state !== undefined) state.lastSyncAt = at;
  }

  /** Calls `listener` after every change of a key; returns a function that unsubscribes. */
  onChange(listener: (change: IndexChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: IndexChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
