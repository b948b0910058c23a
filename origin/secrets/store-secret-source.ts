import { isSecretRecord, LcmError } from '../../core/index.ts';
import type { SecretEntrySource, StoredSecret } from '../keys/data-key-rotation.ts';
import type { OriginStore } from '../store/origin-store.ts';

/** Actor recorded on commits the secrets subsystem makes by itself. */
export const SYSTEM_ACTORS = {
  reencrypt: 'system:data-key-rotation',
  overlapEnd: 'system:secret-overlap-end',
  schedule: 'system:secret-schedule',
} as const;

/**
 * The origin store seen as the re-encryption needs it. It reads the store's `entries` table
 * directly for secrets only (the store's listing walks configs too), and writes through
 * ordinary commits, so that re-sealed secrets replicate like any other change.
 */
export class StoreSecretSource implements SecretEntrySource {
  constructor(private readonly store: OriginStore) {}

  async listSecrets(tenant: string, after: string, limit: number): Promise<StoredSecret[]> {
    const result = await this.store.database.execute({
      sql: `SELECT key, value, revision FROM entries
            WHERE tenant = ? AND kind = 'secret' AND key > ? ORDER BY key LIMIT ?`,
      args: [tenant, after, limit],
    });
    const secrets: StoredSecret[] = [];
    for (const row of result.rows) {
      const record: unknown = JSON.parse(String(row[1]));
      if (!isSecretRecord(record)) continue;
      secrets.push({ key: String(row[0]), revision: Number(row[2]), record });
    }
    return secrets;
  }

  async countSecrets(tenant: string): Promise<number> {
    const result = await this.store.database.execute({
      sql: "SELECT COUNT(*) FROM entries WHERE tenant = ? AND kind = 'secret'",
      args: [tenant],
    });
    return Number(result.rows[0]?.[0] ?? 0);
  }

  async rewrite(tenant: string, secrets: StoredSecret[]): Promise<{ conflicted: string[] }> {
    try {
      await this.#commit(tenant, secrets, SYSTEM_ACTORS.reencrypt);
      return { conflicted: [] };
    } catch (error) {
      if (!isRevisionMismatch(error)) throw error;
    }

    // Someone wrote one of these keys meanwhile: store the others one by one.
    const conflicted: string[] = [];
    for (const secret of secrets) {
      try {
        await this.#commit(tenant, [secret], SYSTEM_ACTORS.reencrypt);
      } catch (error) {
        if (!isRevisionMismatch(error)) throw error;
        conflicted.push(secret.key);
      }
    }
    return { conflicted };
  }

  async #commit(tenant: string, secrets: StoredSecret[], actor: string) {
    return this.store.commit(
      tenant,
      secrets.map((secret) => ({
        op: 'put' as const,
        key: secret.key,
        kind: 'secret' as const,
        value: secret.record as never,
      })),
      { actor, expect: Object.fromEntries(secrets.map((s) => [s.key, s.revision])) },
    );
  }
}

/** True for the store's answer to a commit whose expected revision no longer holds. */
export function isRevisionMismatch(error: unknown): boolean {
  return error instanceof LcmError && error.code === 'revision_mismatch';
}
