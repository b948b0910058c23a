import { describe, expect, it } from 'vitest';
import {
  type AgentWrapBinding,
  base64ToBytes,
  bytesToBase64,
  decodeWrappedAgentDek,
  encodeWrappedAgentDek,
  exportAgentPrivateKey,
  generateAgentKeyPair,
  generateDataKeyBytes,
  importAgentPrivateKey,
  LcmError,
  rawAgentPublicKey,
  unwrapDekForAgent,
  type WrappedAgentDek,
  wrapDekForAgent,
} from '../../core/index.ts';

const binding: AgentWrapBinding = { tenant: 'acme', dekVersion: 3, agentId: 'edge-eu-1' };

function flipBit(base64: string, byteIndex: number): string {
  const bytes = base64ToBytes(base64);
  bytes[byteIndex < 0 ? bytes.length + byteIndex : byteIndex]! ^= 0x80;
  return bytesToBase64(bytes);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof LcmError ? error.code : 'not-an-LcmError'),
  );
}

describe('data keys wrapped to an agent', () => {
  it('round-trips through X25519, HKDF-SHA256 and AES-256-GCM', async () => {
    const agent = await generateAgentKeyPair();
    const dataKey = generateDataKeyBytes();
    const wrapped = await wrapDekForAgent(dataKey, agent.publicKey, binding);

    expect(wrapped).toMatchObject({ tenant: 'acme', dekVersion: 3, agentId: 'edge-eu-1' });
    expect(await unwrapDekForAgent(wrapped, agent, binding)).toEqual(dataKey);
    expect(JSON.stringify(wrapped)).not.toContain(bytesToBase64(dataKey));
  });

  it('uses a fresh ephemeral key for every wrap', async () => {
    const agent = await generateAgentKeyPair();
    const dataKey = generateDataKeyBytes();
    const first = await wrapDekForAgent(dataKey, agent.publicKey, binding);
    const second = await wrapDekForAgent(dataKey, agent.publicKey, binding);

    expect(first.epk).not.toBe(second.epk);
    expect(first.ct).not.toBe(second.ct);
  });

  it('survives saving and loading the private key as PKCS #8', async () => {
    const agent = await generateAgentKeyPair();
    const reloaded = await importAgentPrivateKey(await exportAgentPrivateKey(agent.privateKey));
    const dataKey = generateDataKeyBytes();

    expect(reloaded.publicKey).toBe(agent.publicKey);
    const wrapped = await wrapDekForAgent(dataKey, agent.publicKey, binding);
    expect(await unwrapDekForAgent(wrapped, reloaded, binding)).toEqual(dataKey);
  });

  it('does not open for another agent key pair', async () => {
    const agent = await generateAgentKeyPair();
    const intruder = await generateAgentKeyPair();
    const wrapped = await wrapDekForAgent(generateDataKeyBytes(), agent.publicKey, binding);

    expect(await codeOf(unwrapDekForAgent(wrapped, intruder, binding))).toBe('decrypt_failed');
  });

  it('refuses a wrap relabelled for another tenant, version or agent', async () => {
    const agent = await generateAgentKeyPair();
    const wrapped = await wrapDekForAgent(generateDataKeyBytes(), agent.publicKey, binding);
    const variants: AgentWrapBinding[] = [
      { ...binding, tenant: 'globex' },
      { ...binding, dekVersion: 4 },
      { ...binding, agentId: 'edge-us-1' },
    ];

    for (const other of variants) {
      const relabelled = { ...wrapped, ...other };
      expect(await codeOf(unwrapDekForAgent(relabelled, agent, other))).toBe('decrypt_failed');
      expect(await codeOf(unwrapDekForAgent(wrapped, agent, other))).toBe('decrypt_failed');
    }
  });

  it('refuses a flipped bit in the ciphertext, tag, IV or ephemeral key', async () => {
    const agent = await generateAgentKeyPair();
    const wrapped = await wrapDekForAgent(generateDataKeyBytes(), agent.publicKey, binding);
    const tampered: WrappedAgentDek[] = [
      { ...wrapped, ct: flipBit(wrapped.ct, 0) },
      { ...wrapped, ct: flipBit(wrapped.ct, -1) },
      { ...wrapped, iv: flipBit(wrapped.iv, 5) },
      { ...wrapped, epk: flipBit(wrapped.epk, 3) },
    ];

    for (const copy of tampered) {
      expect(await codeOf(unwrapDekForAgent(copy, agent, binding))).toMatch(
        /^(decrypt_failed|bad_value)$/,
      );
    }
  });

  it('refuses a small-order ephemeral public key', async () => {
    const agent = await generateAgentKeyPair();
    const wrapped = await wrapDekForAgent(generateDataKeyBytes(), agent.publicKey, binding);
    const zeroPoint = bytesToBase64(new Uint8Array(32));

    const code = await codeOf(unwrapDekForAgent({ ...wrapped, epk: zeroPoint }, agent, binding));
    expect(code).toMatch(/^(decrypt_failed|bad_value)$/);
  });

  it('refuses bad public keys and bad agent ids before wrapping', async () => {
    const dataKey = generateDataKeyBytes();
    const agent = await generateAgentKeyPair();

    expect(await codeOf(wrapDekForAgent(dataKey, bytesToBase64(new Uint8Array(31)), binding))).toBe(
      'bad_value',
    );
    expect(
      await codeOf(wrapDekForAgent(dataKey, agent.publicKey, { ...binding, agentId: 'a b' })),
    ).toBe('bad_value');
    expect(await codeOf(importAgentPrivateKey(new Uint8Array(48)))).toBe('bad_value');
  });
});

describe('agent public keys and wire bytes', () => {
  it('accepts the public key as SPKI as well as raw', async () => {
    const agent = await generateAgentKeyPair();
    const raw = base64ToBytes(agent.publicKey);
    const spki = new Uint8Array([...SPKI_X25519_PREFIX, ...raw]);
    const dataKey = generateDataKeyBytes();

    const wrapped = await wrapDekForAgent(dataKey, bytesToBase64(spki), binding);
    expect(await rawAgentPublicKey(bytesToBase64(spki))).toBe(agent.publicKey);
    expect(await unwrapDekForAgent(wrapped, agent, binding)).toEqual(dataKey);
  });

  it('round-trips a wrapped key through its wire bytes and refuses garbage', async () => {
    const agent = await generateAgentKeyPair();
    const wrapped = await wrapDekForAgent(generateDataKeyBytes(), agent.publicKey, binding);

    expect(decodeWrappedAgentDek(encodeWrappedAgentDek(wrapped))).toEqual(wrapped);
    expect(() => decodeWrappedAgentDek(new Uint8Array([0xff, 0x00]))).toThrow(LcmError);
    expect(() => decodeWrappedAgentDek(new TextEncoder().encode('{"v":1}'))).toThrow(LcmError);
  });
});

const SPKI_X25519_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00];
