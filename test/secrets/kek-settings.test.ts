import { describe, expect, it } from 'vitest';
import { resolveKekConfig } from '../../origin/keys/kek-settings.ts';

describe('key provider settings', () => {
  it('defaults to the local provider with documented defaults', () => {
    const config = resolveKekConfig({}, {});
    expect(config).toEqual({
      provider: { kind: 'local', previousMasterKeys: [] },
      timeoutMs: 5000,
      cacheTtlMs: 300_000,
      staleIfErrorMs: 3_600_000,
      reencryptBatch: 100,
      sweepIntervalMs: 5000,
    });
  });

  it('takes a flag over its environment variable', () => {
    const config = resolveKekConfig(
      { kek: 'vault', vaultAddr: 'http://flag:8200', vaultKeyMode: 'per-tenant' },
      { LCM_KEK: 'aws-kms', VAULT_ADDR: 'http://env:8200', VAULT_TOKEN: 't' },
    );
    expect(config.provider).toMatchObject({
      kind: 'vault',
      endpoint: 'http://flag:8200',
      keyMode: 'per-tenant',
      keyName: 'lcm',
      transitMount: 'transit',
    });
  });

  it('resolves AWS KMS from flags and the AWS region variables', () => {
    const config = resolveKekConfig(
      { kek: 'aws-kms', kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/x', kmsEndpoint: 'http://kms' },
      { AWS_REGION: 'eu-west-1' },
    );
    expect(config.provider).toEqual({
      kind: 'aws-kms',
      keyId: 'arn:aws:kms:eu-west-1:1:key/x',
      region: 'eu-west-1',
      endpoint: 'http://kms',
      maxAttempts: 1,
    });
  });

  it('names every missing or contradictory setting at once', () => {
    expect(() => resolveKekConfig({ kek: 'vault' }, { LCM_VAULT_ROLE_ID: 'r' })).toThrow(
      /VAULT_ADDR.*LCM_VAULT_ROLE_ID and LCM_VAULT_SECRET_ID go together/,
    );
    expect(() => resolveKekConfig({ kmsKeyId: 'k' }, {})).toThrow(/KMS flags were given/);
    expect(() => resolveKekConfig({ kek: 'aws-kms' }, { LCM_MASTER_KEY: 'x' })).toThrow(
      /LCM_KMS_KEY_ID.*LCM_KMS_REGION|LCM_MASTER_KEY/,
    );
    expect(() => resolveKekConfig({ kek: 'gcp' }, {})).toThrow(/local, vault, aws-kms/);
    expect(() => resolveKekConfig({}, { LCM_DEK_CACHE_TTL_MS: 'soon' })).toThrow(
      /LCM_DEK_CACHE_TTL_MS/,
    );
  });
});
