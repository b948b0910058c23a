import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Revision } from '../../core/index.ts';
import type { OriginStore } from './origin-store.ts';

/** File, in the data folder, where the origin notes how far each tenant's revisions went. */
export const STORE_STATE_FILE = 'store-state.json';

/** The high-water marks an origin last saw: its store epoch and every tenant's head. */
export interface StoreState {
  epoch: string;
  heads: Record<string, Revision>;
  /** When the marks were taken, milliseconds since the Unix epoch. */
  at: number;
}

/** The state noted in `dataDir`, or undefined when there is none (or it is unreadable). */
export async function readStoreState(dataDir: string): Promise<StoreState | undefined> {
  try {
    const state = JSON.parse(await readFile(join(dataDir, STORE_STATE_FILE), 'utf8'));
    if (typeof state?.epoch !== 'string' || typeof state.heads !== 'object') return undefined;
    return state as StoreState;
  } catch {
    return undefined;
  }
}

/**
 * Notes the store's epoch and heads in `dataDir`, replacing the file atomically. The heads are
 * read after their commits are durable, so the database is never behind a note it made itself.
 */
export async function writeStoreState(dataDir: string, store: OriginStore): Promise<void> {
  const heads: Record<string, Revision> = {};
  for (const tenant of await store.listTenants()) heads[tenant.id] = tenant.headRevision;
  const state: StoreState = { epoch: store.epoch, heads, at: Date.now() };
  const path = join(dataDir, STORE_STATE_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(state));
  await rename(`${path}.tmp`, path);
}

/**
 * The first tenant whose head in the database is behind what this origin noted before under the
 * same epoch: the database went back in time (restored from a backup) and its revisions no
 * longer mean what replicas think. Undefined when nothing went back.
 */
export async function findRewoundTenant(
  store: OriginStore,
  state: StoreState,
): Promise<{ tenant: string; noted: Revision; found: Revision } | undefined> {
  if (state.epoch !== store.epoch) return undefined;
  const found = new Map((await store.listTenants()).map((t) => [t.id, t.headRevision]));
  for (const [tenant, noted] of Object.entries(state.heads)) {
    const head = found.get(tenant) ?? 0;
    if (head < noted) return { tenant, noted, found: head };
  }
  return undefined;
}
