import type { ChangeRecord, Entry, JsonValue, Revision, StoreEpoch } from '../../core/index.ts';

/**
 * One change of a commit as replication needs it: the change record, plus the full new value
 * when the change cannot travel as a patch (secrets travel whole, as ciphertext).
 */
export interface ReplicatedChange {
  record: ChangeRecord;
  /** The full new value for secrets; undefined for configs, whose record holds the patch. */
  value?: JsonValue;
}

/** A commit as it is announced to replication, right after it is durable. */
export interface CommitEvent {
  tenant: string;
  revision: Revision;
  epoch: StoreEpoch;
  /** Commit time, milliseconds since the Unix epoch. */
  at: number;
  /** Every change of the commit; a multi-key commit travels whole. */
  changes: ReplicatedChange[];
}

/** A consistent copy of a tenant at one revision, for agents that need a snapshot. */
export interface TenantSnapshot {
  revision: Revision;
  entries: Entry[];
}

/**
 * What the origin store offers to replication. The store implements it; the replication hub
 * consumes it and knows nothing else of the store.
 */
export interface ReplicationSource {
  /** The store epoch: a random id made with the store. */
  readonly epoch: StoreEpoch;
  /** The tenant's head revision, 0 when nothing was committed. */
  headRevision(tenant: string): Promise<Revision>;
  /**
   * The changes of the commits after `after`, in revision order, whole commits only, stopping at
   * the first commit boundary past about `limit` records. Throws `LcmError('compacted')` when the
   * log no longer holds the commit right after `after`.
   */
  changesAfter(tenant: string, after: Revision, limit: number): Promise<ReplicatedChange[]>;
  /** Every live entry of the tenant at its head revision, read in one transaction. */
  snapshot(tenant: string): Promise<TenantSnapshot>;
  /** Calls `listener` after every durable commit; returns a function that unsubscribes. */
  onCommit(listener: (event: CommitEvent) => void): () => void;
}

/** What an authenticated token may do, as replication needs to know it. */
export interface TokenGrant {
  /** The token's id, recorded as the actor of its commits. */
  tokenId: string;
  role: 'admin' | 'writer' | 'reader' | 'agent';
  /** Tenants the token may touch; `*` means every tenant. */
  tenants: string[];
  /**
   * Key prefixes the token is limited to; absent or empty means every key. Replication sends
   * whole tenants, so a prefix-limited token is refused at the upgrade.
   */
  prefixes?: string[];
}

/**
 * The secrets subsystem as replication sees it: tenant data keys wrapped to one agent's public
 * key, and a way to push new data key versions to connected agents before any write uses them.
 */
export interface DataKeyDistributor {
  /** Every data key of `tenant` an agent may need, wrapped for this agent only. */
  wrappedFor(
    tenant: string,
    agentId: string,
    agentPublicKey: string,
  ): Promise<Array<{ version: number; wrapped: Uint8Array }>>;
  /** Sets the function called with each new version; it resolves once agents have it. */
  setPublisher(publish: (tenant: string, version: number) => Promise<void>): void;
}

/** Resolves a bearer token to its grant, or null when it is unknown or revoked. */
export type Authenticate = (token: string) => Promise<TokenGrant | null>;
