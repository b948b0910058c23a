import nodeVault from 'node-vault';
import {
  base64ToBytes,
  bytesToBase64,
  DATA_KEY_BYTES,
  generateDataKeyBytes,
  LcmError,
} from '../../core/index.ts';
import { kekRefused, kekUnavailable, networkReason } from './kek-errors.ts';
import type { GeneratedDataKey, KeyProvider, WrappedDataKey } from './key-provider.ts';

/** How tenants map onto Vault Transit keys. */
export type VaultKeyMode = 'derived' | 'per-tenant';

/** Settings of the Vault Transit provider. */
export interface VaultKeyProviderOptions {
  /** Vault's address, e.g. `https://vault.internal:8200`. */
  endpoint: string;
  /** A Vault token; renewed before it expires. */
  token?: string;
  /** AppRole credentials, used to log in at start and again whenever Vault answers 403. */
  approle?: { roleId: string; secretId: string; mountPoint?: string };
  /** Vault Enterprise namespace, if any. */
  namespace?: string;
  /** Mount path of the Transit engine. */
  transitMount: string;
  /**
   * In `derived` mode, the one Transit key (created with `derived=true`), the tenant passed as
   * derivation context; in `per-tenant` mode, the prefix of one key per tenant (`<name>-<tenant>`).
   */
  keyName: string;
  keyMode: VaultKeyMode;
  /** Longest wait for one Vault request, ms. */
  timeoutMs: number;
  /** Renew the token when this fraction of its TTL has passed. */
  renewFraction: number;
  /** Told about token renewals and logins, for the origin's log. */
  onEvent?: (event: VaultProviderEvent) => void;
}

/** What the Vault provider reports about its token. */
export type VaultProviderEvent =
  | { type: 'token_renewed'; ttlSeconds: number }
  | { type: 'token_renew_failed'; reason: string }
  | { type: 'logged_in'; ttlSeconds: number }
  | { type: 'login_failed'; reason: string };

const VAULT_CIPHERTEXT_PATTERN = /^vault:v\d+:[A-Za-z0-9+/=]+$/;
const utf8 = new TextEncoder();

/**
 * Key-encryption keys in HashiCorp Vault's Transit engine, through the official `node-vault`
 * client: data keys are encrypted, decrypted and rewrapped by Vault and never stored there.
 */
export class VaultKeyProvider implements KeyProvider {
  readonly kind = 'vault' as const;
  readonly currentKekId: string;
  readonly #options: VaultKeyProviderOptions;
  readonly #client: nodeVault.client;
  #login: Promise<void> | undefined;
  #closed = false;

  constructor(options: VaultKeyProviderOptions) {
    this.#options = options;
    this.currentKekId = `${options.transitMount}/${options.keyName}`;
    this.#client = nodeVault({
      endpoint: options.endpoint,
      token: options.token,
      namespace: options.namespace,
      requestOptions: { timeout: options.timeoutMs },
      // The client's debug output prints request bodies, which hold data keys: keep it off.
      debug: () => {},
    });

    this.#client.on('token:renewed', (result: { auth?: { lease_duration?: number } }) => {
      this.#options.onEvent?.({
        type: 'token_renewed',
        ttlSeconds: result.auth?.lease_duration ?? 0,
      });
    });
    this.#client.on('token:error:renew', (error: unknown) => {
      this.#options.onEvent?.({ type: 'token_renew_failed', reason: vaultReason(error) });
    });
  }

  /**
   * Logs in with AppRole when configured, then keeps the token renewed. A Vault that cannot be
   * reached now is not fatal: every call logs in again when it needs to.
   */
  async start(): Promise<void> {
    try {
      if (this.#options.approle !== undefined) await this.#relogin();
      else if (this.#options.token !== undefined) {
        await this.#client.startTokenRenewal({ renewFraction: this.#options.renewFraction });
      }
    } catch (error) {
      this.#options.onEvent?.({ type: 'token_renew_failed', reason: vaultReason(error) });
    }
  }

  async generateDataKey(tenant: string): Promise<GeneratedDataKey> {
    const plaintext = generateDataKeyBytes();
    return { plaintext, wrapped: await this.wrap(tenant, plaintext) };
  }

  async wrap(tenant: string, plaintext: Uint8Array): Promise<WrappedDataKey> {
    if (plaintext.byteLength !== DATA_KEY_BYTES) {
      throw new LcmError('bad_value', `a data key is ${DATA_KEY_BYTES} bytes`);
    }
    const keyName = this.#keyNameFor(this.#options.keyName, tenant);
    const answer = await this.#call(`encrypt/${keyName}`, {
      plaintext: bytesToBase64(plaintext),
      ...this.#context(tenant),
    });
    return { provider: 'vault', kekId: this.currentKekId, ciphertext: ciphertextOf(answer) };
  }

  async unwrap(tenant: string, wrapped: WrappedDataKey): Promise<Uint8Array> {
    const keyName = this.#keyNameFor(this.#keyNameOf(wrapped), tenant);
    const answer = await this.#call(`decrypt/${keyName}`, {
      ciphertext: wrapped.ciphertext,
      ...this.#context(tenant),
    });

    const text = (answer.data as { plaintext?: unknown } | undefined)?.plaintext;
    let plaintext: Uint8Array | undefined;
    try {
      plaintext = typeof text === 'string' ? base64ToBytes(text) : undefined;
    } catch {
      plaintext = undefined;
    }
    if (plaintext?.byteLength !== DATA_KEY_BYTES) {
      throw kekUnavailable('vault', 'Vault answered without a 32-byte plaintext');
    }
    return plaintext;
  }

  async rewrap(tenant: string, wrapped: WrappedDataKey): Promise<WrappedDataKey> {
    if (wrapped.kekId !== this.currentKekId) {
      // Transit rewraps only within one key; moving to another key goes through the plaintext.
      const plaintext = await this.unwrap(tenant, wrapped);
      try {
        return await this.wrap(tenant, plaintext);
      } finally {
        plaintext.fill(0);
      }
    }
    const keyName = this.#keyNameFor(this.#options.keyName, tenant);
    const answer = await this.#call(`rewrap/${keyName}`, {
      ciphertext: wrapped.ciphertext,
      ...this.#context(tenant),
    });
    return { provider: 'vault', kekId: this.currentKekId, ciphertext: ciphertextOf(answer) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#client.stopAllRenewals?.();
    this.#client.stopTokenRenewal();
  }

  /** Derivation context: the tenant, base64, as Transit expects it. Built only here. */
  #context(tenant: string): { context?: string } {
    if (this.#options.keyMode !== 'derived') return {};
    return { context: vaultDerivationContext(tenant) };
  }

  #keyNameFor(keyName: string, tenant: string): string {
    return this.#options.keyMode === 'per-tenant' ? `${keyName}-${tenant}` : keyName;
  }

  #keyNameOf(wrapped: WrappedDataKey): string {
    const prefix = `${this.#options.transitMount}/`;
    if (wrapped.provider !== 'vault' || !wrapped.kekId.startsWith(prefix)) {
      throw kekRefused('vault', `the data key was wrapped by ${wrapped.provider} ${wrapped.kekId}`);
    }
    return wrapped.kekId.slice(prefix.length);
  }

  async #call(path: string, body: Record<string, string>): Promise<Record<string, unknown>> {
    if (this.#closed) throw kekUnavailable('vault', 'the provider is closed');
    if (this.#options.approle !== undefined && !this.#client.token) await this.#relogin();

    for (let attempt = 1; ; attempt++) {
      try {
        const answer: unknown = await this.#client.write(
          `${this.#options.transitMount}/${path}`,
          body,
        );
        if (answer === null || typeof answer !== 'object') {
          throw kekUnavailable('vault', 'Vault answered something that is not JSON');
        }
        return answer as Record<string, unknown>;
      } catch (error) {
        if (error instanceof LcmError) throw error;
        const status = statusOf(error);
        if (status === 403 && attempt === 1 && this.#options.approle !== undefined) {
          await this.#relogin();
          continue;
        }
        throw vaultError(error, status);
      }
    }
  }

  /** One login at a time; concurrent callers wait for the same one. */
  async #relogin(): Promise<void> {
    this.#login ??= this.#doLogin().finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  async #doLogin(): Promise<void> {
    const approle = this.#options.approle!;
    let answer: { auth?: { lease_duration?: number } };
    try {
      answer = await this.#client.approleLogin({
        role_id: approle.roleId,
        secret_id: approle.secretId,
        ...(approle.mountPoint === undefined ? {} : { mount_point: approle.mountPoint }),
      });
    } catch (error) {
      const reason = vaultReason(error);
      this.#options.onEvent?.({ type: 'login_failed', reason });
      throw kekUnavailable('vault', `AppRole login failed: ${reason}`);
    }

    const ttlSeconds = answer.auth?.lease_duration ?? 0;
    this.#options.onEvent?.({ type: 'logged_in', ttlSeconds });
    if (ttlSeconds > 0 && !this.#closed) {
      await this.#client.startTokenRenewal({
        ttl: ttlSeconds,
        renewFraction: this.#options.renewFraction,
      });
    }
  }
}

/** The Transit derivation context of a tenant: base64 of a labelled tenant id. */
export function vaultDerivationContext(tenant: string): string {
  return bytesToBase64(utf8.encode(`lcm-tenant:${tenant}`));
}

function ciphertextOf(answer: Record<string, unknown>): string {
  const ciphertext = (answer.data as { ciphertext?: unknown } | undefined)?.ciphertext;
  if (typeof ciphertext !== 'string' || !VAULT_CIPHERTEXT_PATTERN.test(ciphertext)) {
    throw kekUnavailable('vault', 'Vault answered without a vault:v ciphertext');
  }
  return ciphertext;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } }).response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function vaultReason(error: unknown): string {
  const status = statusOf(error);
  return status === undefined ? networkReason(error) : `Vault answered ${status}`;
}

function vaultError(error: unknown, status: number | undefined): LcmError {
  if (status === undefined || status >= 500 || status === 429) {
    return kekUnavailable('vault', vaultReason(error));
  }
  if (status === 401 || status === 403) {
    return kekUnavailable('vault', `Vault refused the token (${status})`);
  }
  return kekRefused('vault', `Vault answered ${status}`);
}
