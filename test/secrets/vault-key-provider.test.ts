import { afterEach, describe, expect, it } from 'vitest';
import { bytesToBase64, generateDataKeyBytes } from '../../core/index.ts';
import {
  VaultKeyProvider,
  type VaultKeyProviderOptions,
  type VaultProviderEvent,
  vaultDerivationContext,
} from '../../origin/keys/vault-key-provider.ts';
import {
  startVaultTransitServer,
  type VaultTransitServer,
} from '../support/vault-transit-server.ts';

// The provider runs against a local server that follows Vault's documented Transit and auth
// HTTP API (test/support/vault-transit-server.ts), not against a live Vault.

const ROOT_TOKEN = 'hvs.local-root-token-for-tests';
const APPROLE = { roleId: 'lcm-origin', secretId: 'local-secret-id-for-tests' };

let server: VaultTransitServer | undefined;
let provider: VaultKeyProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await server?.close();
  provider = undefined;
  server = undefined;
});

function options(overrides: Partial<VaultKeyProviderOptions>): VaultKeyProviderOptions {
  return {
    endpoint: server?.url ?? 'http://127.0.0.1:1',
    transitMount: 'transit',
    keyName: 'lcm',
    keyMode: 'derived',
    timeoutMs: 2000,
    renewFraction: 0.5,
    ...overrides,
  };
}

describe('vault key provider', () => {
  it('wraps through transit/encrypt and unwraps through transit/decrypt, tenant as context', async () => {
    server = await startVaultTransitServer({ rootToken: ROOT_TOKEN });
    provider = new VaultKeyProvider(options({ token: ROOT_TOKEN }));
    const { plaintext, wrapped } = await provider.generateDataKey('acme');

    expect(wrapped.ciphertext).toMatch(/^vault:v1:/);
    expect(await provider.unwrap('acme', wrapped)).toEqual(plaintext);

    const encrypt = server.requests.find((r) => r.path === '/v1/transit/encrypt/lcm')!;
    expect(encrypt.method).toBe('POST');
    expect(encrypt.token).toBe(ROOT_TOKEN);
    expect(encrypt.body).toEqual({
      plaintext: bytesToBase64(plaintext),
      context: vaultDerivationContext('acme'),
    });
  });

  it('does not unwrap a data key under another tenant context', async () => {
    server = await startVaultTransitServer({ rootToken: ROOT_TOKEN });
    provider = new VaultKeyProvider(options({ token: ROOT_TOKEN }));
    const { wrapped } = await provider.generateDataKey('acme');

    await expect(provider.unwrap('globex', wrapped)).rejects.toMatchObject({
      code: 'decrypt_failed',
    });
  });

  it('uses one key per tenant in per-tenant mode', async () => {
    server = await startVaultTransitServer({ rootToken: ROOT_TOKEN });
    provider = new VaultKeyProvider(options({ token: ROOT_TOKEN, keyMode: 'per-tenant' }));
    const acme = await provider.generateDataKey('acme');
    await provider.generateDataKey('globex');

    expect(server.keyVersion('lcm-acme')).toBe(1);
    expect(server.keyVersion('lcm-globex')).toBe(1);
    expect(server.requests.at(-1)!.body).not.toHaveProperty('context');
    expect(await provider.unwrap('acme', acme.wrapped)).toEqual(acme.plaintext);
    await expect(provider.unwrap('globex', acme.wrapped)).rejects.toMatchObject({
      code: 'decrypt_failed',
    });
  });

  it('rewraps to the newest Vault key version through transit/rewrap', async () => {
    server = await startVaultTransitServer({ rootToken: ROOT_TOKEN });
    provider = new VaultKeyProvider(options({ token: ROOT_TOKEN }));
    const { plaintext, wrapped } = await provider.generateDataKey('acme');
    server.rotateKey('lcm');

    const rewrapped = await provider.rewrap('acme', wrapped);
    expect(rewrapped.ciphertext).toMatch(/^vault:v2:/);
    expect(server.requests.at(-1)!.path).toBe('/v1/transit/rewrap/lcm');
    expect(await provider.unwrap('acme', rewrapped)).toEqual(plaintext);
  });

  it('logs in with AppRole, and logs in again when Vault answers 403', async () => {
    server = await startVaultTransitServer({ approle: APPROLE, tokenTtlSeconds: 600 });
    const events: VaultProviderEvent[] = [];
    provider = new VaultKeyProvider(
      options({ approle: APPROLE, onEvent: (event) => events.push(event) }),
    );
    await provider.start();
    const { plaintext, wrapped } = await provider.generateDataKey('acme');

    server.revokeToken(server.issuedTokens()[0]!);
    expect(await provider.unwrap('acme', wrapped)).toEqual(plaintext);
    expect(server.issuedTokens()).toHaveLength(2);
    expect(events.filter((e) => e.type === 'logged_in')).toHaveLength(2);
  });

  it('renews its token before it expires', async () => {
    server = await startVaultTransitServer({ approle: APPROLE, tokenTtlSeconds: 2 });
    const events: VaultProviderEvent[] = [];
    provider = new VaultKeyProvider(
      options({ approle: APPROLE, onEvent: (event) => events.push(event) }),
    );
    await provider.start();

    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(events.some((e) => e.type === 'token_renewed')).toBe(true);
    expect(server.requests.some((r) => r.path === '/v1/auth/token/renew-self')).toBe(true);
    // The original token is still good because it was renewed, so no second login happened.
    expect(server.issuedTokens()).toHaveLength(1);
    await provider.generateDataKey('acme');
  });

  it('reports kek_unavailable for 5xx, a timeout, garbage, and an unreachable Vault', async () => {
    server = await startVaultTransitServer({ rootToken: ROOT_TOKEN });
    provider = new VaultKeyProvider(options({ token: ROOT_TOKEN, timeoutMs: 300 }));
    const { wrapped } = await provider.generateDataKey('acme');

    server.faults.add({ status: 503 });
    await expect(provider.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
      message: expect.stringContaining('503'),
    });
    server.faults.add({ delayMs: 1000 });
    await expect(provider.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
      message: expect.stringContaining('timed out'),
    });
    server.faults.add({ garbage: true });
    await expect(provider.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
    });
    server.faults.add({ garbage: true });
    await expect(provider.generateDataKey('acme')).rejects.toMatchObject({
      code: 'kek_unavailable',
    });

    const url = server.url;
    await server.close();
    server = undefined;
    const offline = new VaultKeyProvider(options({ token: ROOT_TOKEN, endpoint: url }));
    await expect(offline.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
    });
    await offline.close();
  });

  it('keeps data keys out of error messages', async () => {
    server = await startVaultTransitServer({ rootToken: ROOT_TOKEN });
    provider = new VaultKeyProvider(options({ token: ROOT_TOKEN }));
    const dataKey = generateDataKeyBytes();
    server.faults.add({ status: 500 });

    const error = (await provider.wrap('acme', dataKey).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(bytesToBase64(dataKey));
    expect(error.cause).toBeUndefined();
  });
});
