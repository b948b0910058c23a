import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AgentKeyPair,
  base64ToBytes,
  bytesToBase64,
  type CryptoKey,
  type DataKeyLookup,
  decodeWrappedAgentDek,
  exportAgentPrivateKey,
  generateAgentKeyPair,
  importAgentPrivateKey,
  importDataKey,
  LcmError,
  unwrapDekForAgent,
} from '../core/index.ts';

/** File in the agent's data folder holding its X25519 private key (PKCS #8, base64), 0600. */
export const AGENT_KEY_FILE = 'agent.key';

/** File holding the tenant data keys as the origin sent them (wrapped to the agent's key). */
export const AGENT_DATA_KEYS_FILE = 'data-keys.json';

const PRIVATE_FILE_MODE = 0o600;

/** A wrapped data key as kept on disk: what the origin's `keys` frame carried. */
interface StoredWrappedKey {
  tenant: string;
  version: number;
  /** The wrapped key's bytes, base64. */
  wrapped: string;
}

/** What the keyring reports, for the agent's log. */
export type KeyringEvent =
  | { type: 'data_keys_received'; tenant: string; versions: number[] }
  | { type: 'data_key_refused'; tenant: string; version: number; code: string };

/**
 * The agent's secrets keys: its own X25519 key pair, made on first start and kept in the data
 * folder with mode 0600, and the tenant data keys the origin wrapped to it. Wrapped keys are kept
 * on disk as received (they open only with the private key), and unwrapped into memory, so that
 * secrets open after a restart even while the origin is out of reach.
 */
export class AgentKeyring {
  readonly #pair: AgentKeyPair;
  readonly #dataDir: string;
  readonly #agentId: string;
  readonly #tenants: ReadonlySet<string>;
  readonly #keys = new Map<string, CryptoKey>();
  readonly #stored = new Map<string, StoredWrappedKey>();
  #saving: Promise<void> = Promise.resolve();
  onEvent: ((event: KeyringEvent) => void) | undefined;

  private constructor(pair: AgentKeyPair, dataDir: string, agentId: string, tenants: string[]) {
    this.#pair = pair;
    this.#dataDir = dataDir;
    this.#agentId = agentId;
    this.#tenants = new Set(tenants);
  }

  /** Loads the key pair (making it on first start) and the data keys kept from before. */
  static async open(dataDir: string, agentId: string, tenants: string[]): Promise<AgentKeyring> {
    const pair = await loadOrCreateKeyPair(join(dataDir, AGENT_KEY_FILE));
    const keyring = new AgentKeyring(pair, dataDir, agentId, tenants);
    await keyring.#loadStored();
    return keyring;
  }

  /** The public key to send in hello, raw X25519 as base64. */
  get publicKey(): string {
    return this.#pair.publicKey;
  }

  /**
   * Takes the data keys of a `keys` frame. Each must be wrapped for this agent, this tenant and
   * its version; one that is not is refused alone. Keys of tenants this agent does not
   * replicate are ignored.
   */
  async accept(tenant: string, dataKeys: Array<{ version: number; wrapped: Uint8Array }>) {
    if (!this.#tenants.has(tenant)) return;
    const accepted: number[] = [];
    for (const { version, wrapped } of dataKeys) {
      try {
        const sealed = decodeWrappedAgentDek(wrapped);
        const binding = { tenant, dekVersion: version, agentId: this.#agentId };
        const raw = await unwrapDekForAgent(sealed, this.#pair, binding);
        this.#keys.set(slot(tenant, version), await importDataKey(raw));
        raw.fill(0);
        this.#stored.set(slot(tenant, version), {
          tenant,
          version,
          wrapped: bytesToBase64(wrapped),
        });
        accepted.push(version);
      } catch (error) {
        const code = error instanceof LcmError ? error.code : 'internal';
        this.onEvent?.({ type: 'data_key_refused', tenant, version, code });
      }
    }
    if (accepted.length === 0) return;
    this.onEvent?.({ type: 'data_keys_received', tenant, versions: accepted });
    await this.#save();
  }

  /** Finds a data key; `not_synced` when the origin has not sent it (yet). */
  readonly lookup: DataKeyLookup = async (tenant, version) => {
    const key = this.#keys.get(slot(tenant, version));
    if (key === undefined) {
      throw new LcmError('not_synced', `no data key ${version} of tenant ${tenant} here yet`);
    }
    return key;
  };

  async #loadStored(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.#dataDir, AGENT_DATA_KEYS_FILE), 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return;
      throw error;
    }
    const stored = JSON.parse(text) as StoredWrappedKey[];
    const byTenant = new Map<string, Array<{ version: number; wrapped: Uint8Array }>>();
    for (const item of stored) {
      const list = byTenant.get(item.tenant) ?? [];
      list.push({ version: item.version, wrapped: base64ToBytes(item.wrapped) });
      byTenant.set(item.tenant, list);
    }
    for (const [tenant, keys] of byTenant) await this.accept(tenant, keys);
  }

  /** Writes the wrapped keys to a temporary file and renames it over the old one. */
  #save(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      const path = join(this.#dataDir, AGENT_DATA_KEYS_FILE);
      const staging = `${path}.tmp`;
      await writeFile(staging, JSON.stringify([...this.#stored.values()]), {
        mode: PRIVATE_FILE_MODE,
      });
      await rename(staging, path);
    });
    return this.#saving;
  }
}

async function loadOrCreateKeyPair(path: string): Promise<AgentKeyPair> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return await importAgentPrivateKey(base64ToBytes(text));
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }

  const pair = await generateAgentKeyPair();
  const pkcs8 = await exportAgentPrivateKey(pair.privateKey);
  const file = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await file.writeFile(`${bytesToBase64(pkcs8)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  pkcs8.fill(0);
  return pair;
}

function slot(tenant: string, version: number): string {
  return `${tenant}\u0000${version}`;
}
