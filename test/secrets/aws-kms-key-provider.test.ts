import { afterEach, describe, expect, it } from 'vitest';
import { bytesToBase64 } from '../../core/index.ts';
import {
  AwsKmsKeyProvider,
  type AwsKmsKeyProviderOptions,
  kmsEncryptionContext,
} from '../../origin/keys/aws-kms-key-provider.ts';
import { type KmsServer, startKmsServer } from '../support/kms-server.ts';

// The provider runs against a local server that follows KMS's documented JSON 1.1 wire protocol
// with SigV4 signing (test/support/kms-server.ts), not against AWS.

let server: KmsServer | undefined;
const providers: AwsKmsKeyProvider[] = [];

afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close();
  await server?.close();
  server = undefined;
});

function makeProvider(overrides: Partial<AwsKmsKeyProviderOptions> = {}): AwsKmsKeyProvider {
  const provider = new AwsKmsKeyProvider({
    keyId: overrides.keyId ?? server!.createKey(),
    region: server!.region,
    endpoint: server!.url,
    credentials: server!.credentials,
    timeoutMs: 2000,
    maxAttempts: 1,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

describe('aws-kms key provider', () => {
  it('generates a data key and decrypts it, signed with SigV4 and the tenant context', async () => {
    server = await startKmsServer();
    const provider = makeProvider();
    const { plaintext, wrapped } = await provider.generateDataKey('acme');

    expect(plaintext).toHaveLength(32);
    expect(wrapped.kekId).toBe(provider.currentKekId);
    expect(await provider.unwrap('acme', wrapped)).toEqual(plaintext);

    const [generate, decrypt] = server.requests;
    expect(generate!.target).toBe('TrentService.GenerateDataKey');
    expect(generate!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(generate!.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${server.credentials.accessKeyId}/\\d{8}/${server.region}/kms/aws4_request, `,
      ),
    );
    expect(generate!.body).toMatchObject({
      KeySpec: 'AES_256',
      EncryptionContext: { 'lcm:tenant': 'acme' },
    });
    expect(decrypt!.target).toBe('TrentService.Decrypt');
    expect(decrypt!.body?.EncryptionContext).toEqual(kmsEncryptionContext('acme'));
  });

  it('sends the encryption context on every call, Encrypt and ReEncrypt included', async () => {
    server = await startKmsServer();
    const provider = makeProvider();
    const { wrapped } = await provider.generateDataKey('acme');
    await provider.wrap('acme', new Uint8Array(32));
    await provider.rewrap('acme', wrapped);

    const [, encrypt, reEncrypt] = server.requests;
    expect(encrypt!.body?.EncryptionContext).toEqual({ 'lcm:tenant': 'acme' });
    expect(reEncrypt!.target).toBe('TrentService.ReEncrypt');
    expect(reEncrypt!.body).toMatchObject({
      SourceEncryptionContext: { 'lcm:tenant': 'acme' },
      DestinationEncryptionContext: { 'lcm:tenant': 'acme' },
    });
  });

  it('rewraps under a new KMS key through ReEncrypt', async () => {
    server = await startKmsServer();
    const before = makeProvider();
    const { plaintext, wrapped } = await before.generateDataKey('acme');
    const after = makeProvider();

    const rewrapped = await after.rewrap('acme', wrapped);
    expect(rewrapped.kekId).toBe(after.currentKekId);
    expect(rewrapped.kekId).not.toBe(wrapped.kekId);
    expect(await after.unwrap('acme', rewrapped)).toEqual(plaintext);
  });

  it('is refused by KMS for a context off by case, missing, or with an extra pair', async () => {
    server = await startKmsServer();
    const provider = makeProvider();
    const { wrapped } = await provider.generateDataKey('acme');
    const { KMSClient, DecryptCommand } = await import('@aws-sdk/client-kms');
    const client = new KMSClient({
      region: server.region,
      endpoint: server.url,
      credentials: server.credentials,
      maxAttempts: 1,
    });
    const blob = Buffer.from(wrapped.ciphertext, 'base64');
    const contexts: Array<Record<string, string> | undefined> = [
      { 'lcm:tenant': 'ACME' },
      { 'LCM:tenant': 'acme' },
      undefined,
      { 'lcm:tenant': 'acme', purpose: 'extra' },
    ];

    for (const EncryptionContext of contexts) {
      const command = new DecryptCommand({ CiphertextBlob: blob, EncryptionContext });
      await expect(client.send(command)).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
      });
    }
    client.destroy();
    await expect(provider.unwrap('Acme', wrapped)).rejects.toMatchObject({
      code: 'decrypt_failed',
    });
  });

  it('is refused when the signature does not match the secret key', async () => {
    server = await startKmsServer();
    const keyId = server.createKey();
    const provider = makeProvider({
      keyId,
      credentials: { ...server.credentials, secretAccessKey: 'wrong-secret-key' },
    });

    await expect(provider.generateDataKey('acme')).rejects.toMatchObject({
      code: 'kek_unavailable',
      message: expect.stringContaining('InvalidSignatureException'),
    });
  });

  it('reports kek_unavailable for 5xx, a timeout, garbage, and an unreachable endpoint', async () => {
    server = await startKmsServer();
    const provider = makeProvider({ timeoutMs: 300 });
    const { wrapped } = await provider.generateDataKey('acme');

    server.faults.add({ status: 500 });
    await expect(provider.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
      message: expect.stringContaining('500'),
    });
    server.faults.add({ delayMs: 1000 });
    await expect(provider.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
    });
    server.faults.add({ garbage: true });
    await expect(provider.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
    });

    const url = server.url;
    await server.close();
    server = undefined;
    const offline = new AwsKmsKeyProvider({
      keyId: provider.currentKekId,
      region: 'eu-west-1',
      endpoint: url,
      credentials: { accessKeyId: 'AKIAOFFLINE', secretAccessKey: 'x' },
      timeoutMs: 500,
      maxAttempts: 1,
    });
    providers.push(offline);
    await expect(offline.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'kek_unavailable',
    });
  });

  it('keeps data keys out of error messages', async () => {
    server = await startKmsServer();
    const provider = makeProvider();
    const { plaintext, wrapped } = await provider.generateDataKey('acme');
    server.faults.add({ status: 503 });

    const error = (await provider.unwrap('acme', wrapped).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(bytesToBase64(plaintext));
    expect(error.cause).toBeUndefined();
  });
});
