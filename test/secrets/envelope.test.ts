import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertJsonValue,
  base64ToBytes,
  bytesToBase64,
  generateDataKeyBytes,
  importDataKey,
  type JsonValue,
  LcmError,
  openSecret,
  type SecretBinding,
  type SecretEnvelope,
  sealSecret,
  secretAdditionalData,
} from '../../core/index.ts';

const binding: SecretBinding = {
  tenant: 'acme',
  key: 'llm/openai/api-key',
  secretVersion: 1,
  dekVersion: 1,
};
const VALUE = { apiKey: 'sk-test-0123456789', org: 'acme' };

function flipBit(base64: string, byteIndex: number): string {
  const bytes = base64ToBytes(base64);
  const index = byteIndex < 0 ? bytes.length + byteIndex : byteIndex;
  bytes[index]! ^= 0x01;
  return bytesToBase64(bytes);
}

function isStorable(value: unknown): boolean {
  try {
    assertJsonValue(JSON.parse(JSON.stringify(value)));
    return true;
  } catch {
    return false;
  }
}

async function expectDecryptFailed(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LcmError);
  expect((error as LcmError).code).toBe('decrypt_failed');
}

describe('secret envelope', () => {
  it('round-trips any JSON value', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }).filter(isStorable), async (value) => {
        const plain = JSON.parse(JSON.stringify(value)) as JsonValue;
        const envelope = await sealSecret(dataKey, binding, plain);
        expect(await openSecret(dataKey, binding, envelope)).toEqual(plain);
      }),
      { numRuns: 100 },
    );
  });

  it('is a plain JSON object with base64 fields and no plaintext', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);

    expect(Object.keys(envelope).sort()).toEqual(['alg', 'ct', 'dekVersion', 'iv', 'v']);
    expect(JSON.parse(JSON.stringify(envelope))).toEqual(envelope);
    expect(base64ToBytes(envelope.iv)).toHaveLength(12);
    expect(JSON.stringify(envelope)).not.toContain('sk-test');
  });

  it('uses a fresh IV for every seal of the same value', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const ivs = new Set<string>();
    for (let i = 0; i < 200; i++) ivs.add((await sealSecret(dataKey, binding, VALUE)).iv);
    expect(ivs.size).toBe(200);
  });

  it('refuses a ciphertext moved to another tenant', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);
    await expectDecryptFailed(openSecret(dataKey, { ...binding, tenant: 'globex' }, envelope));
  });

  it('refuses a ciphertext moved to another key', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);
    await expectDecryptFailed(
      openSecret(dataKey, { ...binding, key: 'llm/anthropic/api-key' }, envelope),
    );
  });

  it('refuses a ciphertext presented as another secret version', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);
    await expectDecryptFailed(openSecret(dataKey, { ...binding, secretVersion: 2 }, envelope));
  });

  it('refuses a wrong data key version, whether claimed by the envelope or the reader', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);

    await expectDecryptFailed(openSecret(dataKey, { ...binding, dekVersion: 2 }, envelope));
    await expectDecryptFailed(
      openSecret(dataKey, { ...binding, dekVersion: 2 }, { ...envelope, dekVersion: 2 }),
    );
  });

  it('refuses another data key', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const otherKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);
    await expectDecryptFailed(openSecret(otherKey, binding, envelope));
  });

  it('refuses a flipped bit anywhere in the ciphertext, the IV or the tag', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);
    const ciphertextBytes = base64ToBytes(envelope.ct).length;

    const tampered: SecretEnvelope[] = [
      { ...envelope, ct: flipBit(envelope.ct, 0) },
      { ...envelope, ct: flipBit(envelope.ct, ciphertextBytes - 17) },
      { ...envelope, ct: flipBit(envelope.ct, -1) },
      { ...envelope, ct: flipBit(envelope.ct, -16) },
      { ...envelope, iv: flipBit(envelope.iv, 0) },
      { ...envelope, iv: flipBit(envelope.iv, 11) },
    ];
    for (const envelopeCopy of tampered) {
      await expectDecryptFailed(openSecret(dataKey, binding, envelopeCopy));
    }
  });

  it('refuses a truncated ciphertext and a malformed envelope with clear codes', async () => {
    const dataKey = await importDataKey(generateDataKeyBytes());
    const envelope = await sealSecret(dataKey, binding, VALUE);
    const truncated = bytesToBase64(base64ToBytes(envelope.ct).subarray(0, 20));

    await expectDecryptFailed(openSecret(dataKey, binding, { ...envelope, ct: truncated }));
    await expect(
      openSecret(dataKey, binding, { ...envelope, iv: 'not base64!!!!!!' }),
    ).rejects.toMatchObject({ code: 'bad_value' });
    await expect(
      openSecret(dataKey, binding, { ...envelope, alg: 'none' } as unknown as SecretEnvelope),
    ).rejects.toMatchObject({ code: 'bad_value' });
  });

  it('builds additional data that separates fields unambiguously', () => {
    const text = (b: SecretBinding) => new TextDecoder().decode(secretAdditionalData(b));
    const a = text({ tenant: 'a', key: 'b-c', secretVersion: 1, dekVersion: 1 });
    const b = text({ tenant: 'a-b', key: 'c', secretVersion: 1, dekVersion: 1 });

    expect(a).not.toBe(b);
    expect(a).toBe('["lcm-secret/v1","a","b-c",1,1]');
    expect(() => text({ ...binding, tenant: 'Bad Tenant' })).toThrow(LcmError);
    expect(() => text({ ...binding, dekVersion: 0 })).toThrow(LcmError);
  });

  it('refuses a data key of the wrong length', async () => {
    await expect(importDataKey(new Uint8Array(16))).rejects.toMatchObject({ code: 'bad_value' });
  });
});
