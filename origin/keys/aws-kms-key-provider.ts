import {
  DecryptCommand,
  type DecryptCommandOutput,
  EncryptCommand,
  type EncryptCommandOutput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandOutput,
  KMSClient,
  ReEncryptCommand,
  type ReEncryptCommandOutput,
} from '@aws-sdk/client-kms';
import { base64ToBytes, bytesToBase64, DATA_KEY_BYTES, LcmError } from '../../core/index.ts';
import { kekRefused, kekUnavailable, networkReason } from './kek-errors.ts';
import type { GeneratedDataKey, KeyProvider, WrappedDataKey } from './key-provider.ts';

/** Settings of the AWS KMS provider. */
export interface AwsKmsKeyProviderOptions {
  /** The KMS key new data keys are wrapped under: key id, ARN or alias. */
  keyId: string;
  region: string;
  /** Endpoint of a KMS-compatible service instead of AWS's own. */
  endpoint?: string;
  /** Explicit credentials; without them the SDK's default chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Longest wait for one KMS request, ms. */
  timeoutMs: number;
  /** Tries the SDK makes on its own before the error reaches us. */
  maxAttempts: number;
}

const REFUSALS = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
]);

/**
 * The KMS encryption context of a tenant's data key. Every KMS call goes through here, so the
 * context is never omitted and never spelled two ways.
 */
export function kmsEncryptionContext(tenant: string): Record<string, string> {
  return { 'lcm:tenant': tenant };
}

/**
 * Key-encryption keys in AWS KMS (or a KMS-compatible service), through the official
 * `@aws-sdk/client-kms`: GenerateDataKey for new data keys, Decrypt to unwrap, ReEncrypt to move
 * a data key to another KMS key without the plaintext leaving KMS.
 */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly kind = 'aws-kms' as const;
  readonly currentKekId: string;
  readonly #options: AwsKmsKeyProviderOptions;
  readonly #client: KMSClient;

  constructor(options: AwsKmsKeyProviderOptions) {
    this.#options = options;
    this.currentKekId = options.keyId;
    this.#client = new KMSClient({
      region: options.region,
      endpoint: options.endpoint,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts,
    });
  }

  async generateDataKey(tenant: string): Promise<GeneratedDataKey> {
    const answer = await this.#send<GenerateDataKeyCommandOutput>(
      new GenerateDataKeyCommand({
        KeyId: this.#options.keyId,
        KeySpec: 'AES_256',
        EncryptionContext: kmsEncryptionContext(tenant),
      }),
    );
    const plaintext = checkedDataKey(answer.Plaintext);
    return { plaintext, wrapped: wrappedFrom(answer.CiphertextBlob, answer.KeyId) };
  }

  async wrap(tenant: string, plaintext: Uint8Array): Promise<WrappedDataKey> {
    if (plaintext.byteLength !== DATA_KEY_BYTES) {
      throw new LcmError('bad_value', `a data key is ${DATA_KEY_BYTES} bytes`);
    }
    const answer = await this.#send<EncryptCommandOutput>(
      new EncryptCommand({
        KeyId: this.#options.keyId,
        Plaintext: plaintext,
        EncryptionContext: kmsEncryptionContext(tenant),
      }),
    );
    return wrappedFrom(answer.CiphertextBlob, answer.KeyId);
  }

  async unwrap(tenant: string, wrapped: WrappedDataKey): Promise<Uint8Array> {
    const answer = await this.#send<DecryptCommandOutput>(
      new DecryptCommand({
        CiphertextBlob: blobOf(wrapped),
        KeyId: wrapped.kekId,
        EncryptionContext: kmsEncryptionContext(tenant),
      }),
    );
    return checkedDataKey(answer.Plaintext);
  }

  async rewrap(tenant: string, wrapped: WrappedDataKey): Promise<WrappedDataKey> {
    const context = kmsEncryptionContext(tenant);
    const answer = await this.#send<ReEncryptCommandOutput>(
      new ReEncryptCommand({
        CiphertextBlob: blobOf(wrapped),
        SourceKeyId: wrapped.kekId,
        SourceEncryptionContext: context,
        DestinationKeyId: this.#options.keyId,
        DestinationEncryptionContext: context,
      }),
    );
    return wrappedFrom(answer.CiphertextBlob, answer.KeyId);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  async #send<Output>(command: { readonly input: object }): Promise<Output> {
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is overloaded per command.
      return (await this.#client.send(command as any, {
        abortSignal: AbortSignal.timeout(this.#options.timeoutMs),
      })) as Output;
    } catch (error) {
      throw kmsError(error);
    }
  }
}

function kmsError(error: unknown): LcmError {
  if (error instanceof LcmError) return error;
  const fields = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof fields.name === 'string' ? fields.name : 'UnknownError';
  const status = fields.$metadata?.httpStatusCode;

  if (REFUSALS.has(name)) return kekRefused('aws-kms', name);
  if (typeof status === 'number' && status >= 500) {
    return kekUnavailable('aws-kms', `KMS answered ${status} (${name})`);
  }
  if (typeof status === 'number' && status < 500 && name !== 'SyntaxError') {
    return kekUnavailable('aws-kms', `KMS refused the request: ${name}`);
  }
  if (name === 'SyntaxError' || name === 'SerializationException' || typeof status === 'number') {
    return kekUnavailable('aws-kms', 'KMS answered something that is not a KMS answer');
  }
  return kekUnavailable('aws-kms', networkReason(error));
}

function checkedDataKey(plaintext: Uint8Array | undefined): Uint8Array {
  if (plaintext?.byteLength !== DATA_KEY_BYTES) {
    throw kekUnavailable('aws-kms', 'KMS answered without a 32-byte data key');
  }
  return new Uint8Array(plaintext);
}

function wrappedFrom(blob: Uint8Array | undefined, keyId: string | undefined): WrappedDataKey {
  if (blob === undefined || blob.byteLength === 0 || typeof keyId !== 'string' || keyId === '') {
    throw kekUnavailable('aws-kms', 'KMS answered without a ciphertext blob and key id');
  }
  return { provider: 'aws-kms', kekId: keyId, ciphertext: bytesToBase64(blob) };
}

function blobOf(wrapped: WrappedDataKey): Uint8Array {
  if (wrapped.provider !== 'aws-kms') {
    throw kekRefused('aws-kms', `the data key was wrapped by ${wrapped.provider}`);
  }
  try {
    return base64ToBytes(wrapped.ciphertext);
  } catch {
    throw kekRefused('aws-kms', 'the wrapped data key is not base64');
  }
}
