import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToBase64, randomBytes } from '../../core/index.ts';
import { LocalKeyProvider, loadLocalMasterKey } from '../../origin/keys/local-key-provider.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

let dir: TempDir | undefined;
afterEach(() => dir?.remove());

describe('local key provider', () => {
  it('creates DATA/master.key with mode 0600 on first start and reads it back after', async () => {
    dir = makeTempDir('lcm-local-kek');
    const first = await loadLocalMasterKey(dir.path, undefined);
    const second = await loadLocalMasterKey(dir.path, undefined);

    expect(first.source).toBe('created');
    expect(second.source).toBe('file');
    expect(second.masterKey).toEqual(first.masterKey);
    expect((await stat(join(dir.path, 'master.key'))).mode & 0o777).toBe(0o600);
  });

  it('takes LCM_MASTER_KEY as base64 or hex and then writes no file', async () => {
    dir = makeTempDir('lcm-local-kek');
    const key = randomBytes(32);
    const hex = Buffer.from(key).toString('hex');

    expect((await loadLocalMasterKey(dir.path, bytesToBase64(key))).masterKey).toEqual(key);
    expect((await loadLocalMasterKey(dir.path, hex)).masterKey).toEqual(key);
    await expect(stat(join(dir.path, 'master.key'))).rejects.toThrow();
    await expect(loadLocalMasterKey(dir.path, 'too-short')).rejects.toThrow(/LCM_MASTER_KEY/);
  });

  it('refuses a master key file that others may read', async () => {
    dir = makeTempDir('lcm-local-kek');
    await loadLocalMasterKey(dir.path, undefined);
    await chmod(join(dir.path, 'master.key'), 0o644);
    await expect(loadLocalMasterKey(dir.path, undefined)).rejects.toThrow(/chmod 600/);
  });

  it('refuses a corrupt master key file', async () => {
    dir = makeTempDir('lcm-local-kek');
    await writeFile(join(dir.path, 'master.key'), 'garbage\n', { mode: 0o600 });
    await expect(loadLocalMasterKey(dir.path, undefined)).rejects.toThrow(/32 bytes/);
  });

  it('wraps and unwraps a data key, bound to its tenant', async () => {
    const provider = await LocalKeyProvider.create(randomBytes(32));
    const { plaintext, wrapped } = await provider.generateDataKey('acme');

    expect(wrapped.kekId).toBe(provider.currentKekId);
    expect(wrapped.ciphertext).not.toContain(bytesToBase64(plaintext));
    expect(await provider.unwrap('acme', wrapped)).toEqual(plaintext);
    await expect(provider.unwrap('globex', wrapped)).rejects.toMatchObject({
      code: 'decrypt_failed',
    });
  });

  it('refuses a flipped bit in a wrapped data key', async () => {
    const provider = await LocalKeyProvider.create(randomBytes(32));
    const { wrapped } = await provider.generateDataKey('acme');
    const bytes = Buffer.from(wrapped.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;

    await expect(
      provider.unwrap('acme', { ...wrapped, ciphertext: bytes.toString('base64') }),
    ).rejects.toMatchObject({ code: 'decrypt_failed' });
  });

  it('rewraps under a new master key while the old one is listed as previous', async () => {
    const oldKey = randomBytes(32);
    const before = await LocalKeyProvider.create(oldKey);
    const { plaintext, wrapped } = await before.generateDataKey('acme');

    const after = await LocalKeyProvider.create(randomBytes(32), [oldKey]);
    expect(after.currentKekId).not.toBe(before.currentKekId);
    const rewrapped = await after.rewrap('acme', wrapped);
    expect(rewrapped.kekId).toBe(after.currentKekId);
    expect(await after.unwrap('acme', rewrapped)).toEqual(plaintext);

    const withoutOld = await LocalKeyProvider.create(randomBytes(32));
    await expect(withoutOld.unwrap('acme', wrapped)).rejects.toMatchObject({
      code: 'decrypt_failed',
    });
  });

  it('never writes the key material into an error message', async () => {
    dir = makeTempDir('lcm-local-kek');
    const { masterKey } = await loadLocalMasterKey(dir.path, undefined);
    const provider = await LocalKeyProvider.create(masterKey);
    const text = (await readFile(join(dir.path, 'master.key'), 'utf8')).trim();

    const error = await provider
      .unwrap('acme', { provider: 'local', kekId: provider.currentKekId, ciphertext: 'AAAA' })
      .catch((caught: Error) => caught);
    expect(String((error as Error).message)).not.toContain(text);
  });
});
