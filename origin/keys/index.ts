export {
  AwsKmsKeyProvider,
  type AwsKmsKeyProviderOptions,
  kmsEncryptionContext,
} from './aws-kms-key-provider.ts';
export { createKeyProvider, type ProviderStart } from './create-key-provider.ts';
export { type CachedDataKey, DataKeyCache, type DataKeyCacheOptions } from './data-key-cache.ts';
export {
  type DataKeyEvent,
  DataKeyManager,
  type DataKeyManagerOptions,
  type DataKeyPublisher,
  type DataKeyVersionInfo,
  type KeyTableReader,
  type KeyTableWriter,
} from './data-key-manager.ts';
export {
  DataKeyRotation,
  type DataKeyRotationOptions,
  type RotationStatus,
  type SecretEntrySource,
  type StoredSecret,
} from './data-key-rotation.ts';
export { isKekUnavailable, kekRefused, kekUnavailable } from './kek-errors.ts';
export { DEFAULT_KEK_RETRY, type KekRetryOptions, withKekRetry } from './kek-retry.ts';
export { type KekConfig, type KekOptions, resolveKekConfig } from './kek-settings.ts';
export type {
  GeneratedDataKey,
  KekProviderKind,
  KeyProvider,
  WrappedDataKey,
} from './key-provider.ts';
export { LocalKeyProvider, loadLocalMasterKey, MASTER_KEY_FILE } from './local-key-provider.ts';
export {
  VaultKeyProvider,
  type VaultKeyProviderOptions,
  vaultDerivationContext,
} from './vault-key-provider.ts';
