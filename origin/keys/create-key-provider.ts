import { AwsKmsKeyProvider } from './aws-kms-key-provider.ts';
import type { KekConfig } from './kek-settings.ts';
import type { KeyProvider } from './key-provider.ts';
import {
  LocalKeyProvider,
  loadLocalMasterKey,
  type MasterKeySource,
  parseMasterKey,
} from './local-key-provider.ts';
import { VaultKeyProvider, type VaultProviderEvent } from './vault-key-provider.ts';

/** What starting a provider reports, for the origin's start-up log. */
export interface ProviderStart {
  provider: KeyProvider;
  /** For `local`: where the master key came from. */
  masterKeySource?: MasterKeySource;
}

/** Builds and starts the key provider the settings name. */
export async function createKeyProvider(
  config: KekConfig,
  dataDir: string,
  onVaultEvent?: (event: VaultProviderEvent) => void,
): Promise<ProviderStart> {
  const settings = config.provider;

  if (settings.kind === 'local') {
    const { masterKey, source } = await loadLocalMasterKey(dataDir, settings.masterKey);
    const previous = settings.previousMasterKeys.map((text, index) =>
      parseMasterKey(text, `LCM_PREVIOUS_MASTER_KEYS item ${index + 1}`),
    );
    const provider = await LocalKeyProvider.create(masterKey, previous);
    masterKey.fill(0);
    return { provider, masterKeySource: source };
  }

  if (settings.kind === 'vault') {
    const provider = new VaultKeyProvider({
      endpoint: settings.endpoint,
      ...(settings.token !== undefined && { token: settings.token }),
      ...(settings.approle !== undefined && { approle: settings.approle }),
      ...(settings.namespace !== undefined && { namespace: settings.namespace }),
      transitMount: settings.transitMount,
      keyName: settings.keyName,
      keyMode: settings.keyMode,
      timeoutMs: config.timeoutMs,
      renewFraction: 0.7,
      ...(onVaultEvent !== undefined && { onEvent: onVaultEvent }),
    });
    await provider.start();
    return { provider };
  }

  const provider = new AwsKmsKeyProvider({
    keyId: settings.keyId,
    region: settings.region,
    ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
    timeoutMs: config.timeoutMs,
    maxAttempts: settings.maxAttempts,
  });
  return { provider };
}
