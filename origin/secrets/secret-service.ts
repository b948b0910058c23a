import { z } from 'zod';
import {
  bytesToBase64,
  isSecretRecord,
  type JsonValue,
  LcmError,
  openSecretRecord,
  type Revision,
  randomBytes,
  type SecretRecord,
  type SecretRotationSchedule,
  type SecretVersionSelector,
  sealSecretRecord,
} from '../../core/index.ts';
import type { DataKeyManager } from '../keys/data-key-manager.ts';
import type { ReplicationHub } from '../replication/index.ts';
import type { ChangeInput } from '../store/commit-types.ts';
import type { OriginStore, ReadAt } from '../store/origin-store.ts';
import { isRevisionMismatch, SYSTEM_ACTORS } from './store-secret-source.ts';

/** Bytes of randomness in a value made by the `random-token` generator. */
export const RANDOM_TOKEN_BYTES = 32;

/** Longest overlap or rotation period accepted, seconds (one year). */
const MAX_PERIOD_SECONDS = 365 * 24 * 3600;

/** Default overlap of scheduled rotations when none is given, seconds, capped at the period. */
const DEFAULT_SCHEDULE_OVERLAP_SECONDS = 3600;

/** Tries of a write whose caller gave no condition, when another write to the key raced it. */
const WRITE_RACE_TRIES = 3;

const period = z.number().int().min(1).max(MAX_PERIOD_SECONDS);

/** The body of `PUT /v1/tenants/{t}/secrets/{key}`. */
export const secretWriteSchema = z
  .object({
    value: z.unknown(),
    /** Rotate with an overlap: the value being replaced stays valid this long. */
    rotate: z
      .object({ overlapSeconds: z.number().int().min(0).max(MAX_PERIOD_SECONDS) })
      .strict()
      .optional(),
    /** An automatic rotation schedule; null removes it, absent keeps the current one. */
    rotation: z
      .object({
        everySeconds: period,
        generator: z.literal('random-token'),
        overlapSeconds: z.number().int().min(0).max(MAX_PERIOD_SECONDS).optional(),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

/** A parsed secret write. */
export type SecretWrite = z.infer<typeof secretWriteSchema>;

/** A secret read from the store: its record and where it sits. */
export interface ReadSecret {
  key: string;
  record: SecretRecord;
  /** Tenant revision of the key's last change. */
  revision: Revision;
  /** Tenant head revision when read. */
  headRevision: Revision;
}

/** The metadata of a secret, as the API shows it without `reveal`. */
export interface SecretMetadata {
  key: string;
  revision: Revision;
  version: number;
  dekVersion: number;
  createdAt: number;
  rotatesAt: number | null;
  rotation: SecretRotationSchedule | null;
  /** The value before the last rotation while its overlap lasts. */
  previous: { version: number; dekVersion: number; validUntil: number } | null;
  /** Agents of the tenant that have not acknowledged this revision yet (overlaps only). */
  laggingAgents?: string[];
}

/** Settings of a {@link SecretService}. */
export interface SecretServiceOptions {
  store: OriginStore;
  keys: DataKeyManager;
  /** The replication hub, once attached; tells which agents still lag. */
  hub: () => ReplicationHub | undefined;
  now?: () => number;
}

/**
 * Secrets at the origin: sealing new values under the tenant's current data key, reading
 * metadata and (for tokens allowed to reveal) plaintext, value rotation with an overlap held
 * open until every connected agent has the new value, and rotation schedules.
 */
export class SecretService {
  readonly #options: SecretServiceOptions;
  readonly #now: () => number;

  constructor(options: SecretServiceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Seals and commits a new value of a secret. `expectRevision` is the caller's condition, if
   * any; without one, a write that raced another write to the key is retried on the new state.
   */
  async write(
    tenant: string,
    key: string,
    input: SecretWrite,
    actor: string,
    expectRevision?: Revision,
  ): Promise<{ key: string; revision: Revision; version: number }> {
    if (input.value === undefined) throw new LcmError('bad_value', 'a secret needs a value');
    for (let attempt = 1; ; attempt++) {
      const before = await this.#current(tenant, key);
      if (expectRevision !== undefined && (before?.revision ?? 0) !== expectRevision) {
        throw new LcmError('revision_mismatch', `the secret at ${key} has changed`);
      }
      const record = await this.#seal(tenant, key, input, before?.record ?? null);
      // Only now, with the value sealed, may a first write create its tenant: a provider that
      // is down leaves nothing behind.
      if (before === undefined) await this.#options.store.createTenant(tenant);

      try {
        const result = await this.#options.store.commit(
          tenant,
          [{ op: 'put', key, kind: 'secret', value: record as unknown as JsonValue }],
          { actor, expect: { [key]: before?.revision ?? 0 } },
        );
        return { key, revision: result.revision, version: record.version };
      } catch (error) {
        const retry = expectRevision === undefined && attempt < WRITE_RACE_TRIES;
        if (!retry || !isRevisionMismatch(error)) throw error;
      }
    }
  }

  /**
   * Restores the value a secret had at `revision` as its next version, sealed anew under the
   * current data key: a restore is a new revision and a new version, history is not rewritten.
   */
  async rollback(
    tenant: string,
    key: string,
    revision: Revision,
    actor: string,
    expectRevision?: Revision,
  ): Promise<{ key: string; revision: Revision; version: number }> {
    const old = await this.read(tenant, key, { revision });
    const { value } = await this.reveal(tenant, old, 'current');
    return this.write(tenant, key, { value }, actor, expectRevision);
  }

  /**
   * The change a multi-key commit needs to put a secret: the value sealed as the key's next
   * version, on the key's current state. The commit must expect that state.
   */
  async sealChange(
    tenant: string,
    key: string,
    value: JsonValue,
  ): Promise<{ change: ChangeInput; expectRevision: Revision }> {
    const before = await this.#current(tenant, key);
    const record = await this.#seal(tenant, key, { value }, before?.record ?? null);
    if (before === undefined) await this.#options.store.createTenant(tenant);
    return {
      change: { op: 'put', key, kind: 'secret', value: record as unknown as JsonValue },
      expectRevision: before?.revision ?? 0,
    };
  }

  /** A secret at the head, a revision or a snapshot; `not_found` if none, `conflict` if config. */
  async read(tenant: string, key: string, at: ReadAt = {}): Promise<ReadSecret> {
    const entry = await this.#options.store.readEntry(tenant, key, at);
    if (entry.kind !== 'secret') {
      throw new LcmError('conflict', `the entry at ${key} is a ${entry.kind}, not a secret`);
    }
    const record: unknown = JSON.parse(entry.text);
    if (!isSecretRecord(record)) throw new LcmError('internal', `the secret at ${key} is damaged`);
    return { key, record, revision: entry.revision, headRevision: entry.headRevision };
  }

  /** Opens the current or the previous value of a secret read by {@link read}. */
  async reveal(tenant: string, secret: ReadSecret, which: SecretVersionSelector) {
    return openSecretRecord(secret.record, which, {
      tenant,
      key: secret.key,
      lookup: this.#options.keys.lookup,
    });
  }

  /** The metadata of a secret; with an open overlap, the agents that still lag. */
  metadata(tenant: string, secret: ReadSecret): SecretMetadata {
    const { record } = secret;
    const metadata: SecretMetadata = {
      key: secret.key,
      revision: secret.revision,
      version: record.version,
      dekVersion: record.dekVersion,
      createdAt: record.createdAt,
      rotatesAt: record.rotatesAt,
      rotation: record.rotation ?? null,
      previous:
        record.previous === null
          ? null
          : {
              version: record.previous.version,
              dekVersion: record.previous.dekVersion,
              validUntil: record.previous.validUntil,
            },
    };
    if (record.previous !== null) {
      metadata.laggingAgents = this.laggingAgents(tenant, secret.revision);
    }
    return metadata;
  }

  /** Connected agents of `tenant` whose acknowledged revision is below `revision`. */
  laggingAgents(tenant: string, revision: Revision): string[] {
    const agents = this.#options.hub()?.agents() ?? [];
    return agents
      .filter((agent) => {
        const progress = agent.tenants[tenant];
        return progress !== undefined && progress.appliedRevision < revision;
      })
      .map((agent) => agent.agentId)
      .sort();
  }

  /**
   * One pass over every secret that needs attention: overlaps past their end whose new value
   * every connected agent has acknowledged are closed, and scheduled rotations that are due run.
   */
  async sweep(): Promise<{ overlapsEnded: number; rotated: number }> {
    const now = this.#now();
    const result = await this.#options.store.database.execute({
      sql: `SELECT tenant, key, value, revision FROM entries WHERE kind = 'secret' AND (
              json_extract(value, '$.previous.validUntil') <= ?
              OR json_extract(value, '$.rotatesAt') <= ?)`,
      args: [now, now],
    });

    let overlapsEnded = 0;
    let rotated = 0;
    for (const row of result.rows) {
      const tenant = String(row[0]);
      const key = String(row[1]);
      const revision = Number(row[3]);
      const record: unknown = JSON.parse(String(row[2]));
      if (!isSecretRecord(record)) continue;

      try {
        if (record.rotation !== null && record.rotatesAt !== null && record.rotatesAt <= now) {
          await this.#rotateOnSchedule(tenant, key, record, revision);
          rotated++;
        } else if (record.previous !== null && record.previous.validUntil <= now) {
          if (this.laggingAgents(tenant, revision).length > 0) continue;
          await this.#options.store.commit(
            tenant,
            [{ op: 'put', key, kind: 'secret', value: { ...record, previous: null } as never }],
            { actor: SYSTEM_ACTORS.overlapEnd, expect: { [key]: revision } },
          );
          overlapsEnded++;
        }
      } catch (error) {
        // A write that raced the sweep wins; the next sweep looks again.
        if (!isRevisionMismatch(error)) throw error;
      }
    }
    return { overlapsEnded, rotated };
  }

  async #rotateOnSchedule(tenant: string, key: string, record: SecretRecord, revision: Revision) {
    const schedule = record.rotation!;
    const value = randomToken();
    const sealed = await this.#seal(
      tenant,
      key,
      { value, rotate: { overlapSeconds: schedule.overlapSeconds } },
      record,
    );
    await this.#options.store.commit(
      tenant,
      [{ op: 'put', key, kind: 'secret', value: sealed as unknown as JsonValue }],
      { actor: SYSTEM_ACTORS.schedule, expect: { [key]: revision } },
    );
  }

  async #current(tenant: string, key: string): Promise<ReadSecret | undefined> {
    try {
      return await this.read(tenant, key);
    } catch (error) {
      if (error instanceof LcmError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  async #seal(
    tenant: string,
    key: string,
    input: SecretWrite,
    before: SecretRecord | null,
  ): Promise<SecretRecord> {
    const { version: dekVersion, key: dataKey } = await this.#options.keys.currentDataKey(tenant);
    let rotation: SecretRotationSchedule | null = before?.rotation ?? null;
    if (input.rotation === null) rotation = null;
    else if (input.rotation !== undefined) {
      rotation = {
        everySeconds: input.rotation.everySeconds,
        generator: input.rotation.generator,
        overlapSeconds:
          input.rotation.overlapSeconds ??
          Math.min(DEFAULT_SCHEDULE_OVERLAP_SECONDS, input.rotation.everySeconds),
      };
    }

    return sealSecretRecord(input.value as JsonValue, {
      tenant,
      key,
      dataKey,
      dekVersion,
      before,
      overlapSeconds: input.rotate?.overlapSeconds ?? 0,
      rotation,
      now: this.#now(),
    });
  }
}

const servicesByStore = new WeakMap<OriginStore, SecretService>();

/** Records the secret service of a store, for routes that only see the store (commits). */
export function registerSecretService(store: OriginStore, service: SecretService): void {
  servicesByStore.set(store, service);
}

/**
 * The secret service of a store, so that a multi-key commit can seal the secrets it holds;
 * `unavailable` when the origin runs without one.
 */
export function secretServiceOf(store: OriginStore): SecretService {
  const service = servicesByStore.get(store);
  if (service === undefined) throw new LcmError('unavailable', 'secrets are not set up');
  return service;
}

/** A new random value for the `random-token` generator: 32 bytes, base64url without padding. */
export function randomToken(): string {
  return bytesToBase64(randomBytes(RANDOM_TOKEN_BYTES))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
