import type { AwsKmsKeyProviderOptions } from './aws-kms-key-provider.ts';
import type { KekProviderKind } from './key-provider.ts';
import type { VaultKeyMode } from './vault-key-provider.ts';

/** Key settings as given by flags; each falls back to its environment variable. */
export interface KekOptions {
  /** `--kek`: local, vault or aws-kms (env `LCM_KEK`, default local). */
  kek?: string;
  /** `--vault-addr` (env `VAULT_ADDR`). */
  vaultAddr?: string;
  /** `--vault-key` (env `LCM_VAULT_KEY`, default `lcm`). */
  vaultKey?: string;
  /** `--vault-key-mode`: derived or per-tenant (env `LCM_VAULT_KEY_MODE`, default derived). */
  vaultKeyMode?: string;
  /** `--vault-transit-mount` (env `LCM_VAULT_TRANSIT_MOUNT`, default `transit`). */
  vaultTransitMount?: string;
  /** `--kms-key-id` (env `LCM_KMS_KEY_ID`). */
  kmsKeyId?: string;
  /** `--kms-region` (env `LCM_KMS_REGION`, then `AWS_REGION`, `AWS_DEFAULT_REGION`). */
  kmsRegion?: string;
  /** `--kms-endpoint` (env `LCM_KMS_ENDPOINT`): a KMS-compatible service instead of AWS. */
  kmsEndpoint?: string;
}

/** Settings of the local provider. */
export interface LocalKekConfig {
  kind: 'local';
  /** From `LCM_MASTER_KEY`; undefined means `DATA/master.key`, created on first start. */
  masterKey?: string;
  /** From `LCM_PREVIOUS_MASTER_KEYS`, comma-separated: older keys that still unwrap. */
  previousMasterKeys: string[];
}

/** Settings of the Vault Transit provider. */
export interface VaultKekConfig {
  kind: 'vault';
  endpoint: string;
  /** From `VAULT_TOKEN`. */
  token?: string;
  /** From `LCM_VAULT_ROLE_ID` and `LCM_VAULT_SECRET_ID`. */
  approle?: { roleId: string; secretId: string };
  /** From `VAULT_NAMESPACE`. */
  namespace?: string;
  transitMount: string;
  keyName: string;
  keyMode: VaultKeyMode;
}

/** Settings of the AWS KMS provider. */
export interface AwsKmsKekConfig
  extends Pick<AwsKmsKeyProviderOptions, 'keyId' | 'region' | 'endpoint'> {
  kind: 'aws-kms';
  /** From `LCM_KMS_MAX_ATTEMPTS`, default 1: reads retry in our own layer with backoff. */
  maxAttempts: number;
}

/** The complete key settings of an origin. */
export interface KekConfig {
  provider: LocalKekConfig | VaultKekConfig | AwsKmsKekConfig;
  /** Longest wait for one provider call, ms. Env `LCM_KEK_TIMEOUT_MS`, default 5000. */
  timeoutMs: number;
  /** How long unwrapped data keys are cached, ms. Env `LCM_DEK_CACHE_TTL_MS`, default 300000. */
  cacheTtlMs: number;
  /**
   * How long past its TTL a cached data key still serves reads while the provider is down, ms.
   * Env `LCM_DEK_STALE_IF_ERROR_MS`, default 3600000; 0 turns it off.
   */
  staleIfErrorMs: number;
  /** Secrets re-sealed per commit during a data key rotation. Env `LCM_REENCRYPT_BATCH`, 100. */
  reencryptBatch: number;
  /**
   * How often ended overlaps are closed and due rotation schedules run, ms. Env
   * `LCM_SECRET_SWEEP_MS`, default 5000.
   */
  sweepIntervalMs: number;
}

const KINDS: KekProviderKind[] = ['local', 'vault', 'aws-kms'];
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_CACHE_TTL_MS = 300_000;
const DEFAULT_STALE_IF_ERROR_MS = 3_600_000;
const DEFAULT_REENCRYPT_BATCH = 100;
const DEFAULT_SWEEP_MS = 5_000;

/**
 * Resolves key flags and environment into complete key settings. Contradictions (Vault options
 * with `--kek local`, a role id without a secret id) and missing required options throw an Error
 * naming every one of them.
 */
export function resolveKekConfig(
  options: KekOptions = {},
  env: Record<string, string | undefined> = process.env,
): KekConfig {
  const kind = (options.kek ?? env.LCM_KEK ?? 'local') as KekProviderKind;
  const problems: string[] = [];
  if (!KINDS.includes(kind)) problems.push(`--kek (LCM_KEK) is one of ${KINDS.join(', ')}`);

  const vaultGiven = [options.vaultAddr, options.vaultKey, options.vaultKeyMode].some(Boolean);
  const kmsGiven = [options.kmsKeyId, options.kmsEndpoint].some(Boolean);
  if (kind !== 'vault' && vaultGiven) problems.push(`Vault flags were given with --kek ${kind}`);
  if (kind !== 'aws-kms' && kmsGiven) problems.push(`KMS flags were given with --kek ${kind}`);
  if (kind !== 'local' && env.LCM_MASTER_KEY) {
    problems.push(`LCM_MASTER_KEY is set but --kek is ${kind}`);
  }

  let provider: KekConfig['provider'] | undefined;
  if (kind === 'local') {
    provider = {
      kind,
      ...(env.LCM_MASTER_KEY ? { masterKey: env.LCM_MASTER_KEY } : {}),
      previousMasterKeys: (env.LCM_PREVIOUS_MASTER_KEYS ?? '')
        .split(',')
        .map((key) => key.trim())
        .filter((key) => key !== ''),
    };
  } else if (kind === 'vault') {
    provider = resolveVault(options, env, problems);
  } else if (kind === 'aws-kms') {
    provider = resolveKms(options, env, problems);
  }

  const config = {
    timeoutMs: whole('LCM_KEK_TIMEOUT_MS', env.LCM_KEK_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, problems),
    cacheTtlMs: whole(
      'LCM_DEK_CACHE_TTL_MS',
      env.LCM_DEK_CACHE_TTL_MS,
      DEFAULT_CACHE_TTL_MS,
      problems,
    ),
    staleIfErrorMs: whole(
      'LCM_DEK_STALE_IF_ERROR_MS',
      env.LCM_DEK_STALE_IF_ERROR_MS,
      DEFAULT_STALE_IF_ERROR_MS,
      problems,
    ),
    reencryptBatch: whole(
      'LCM_REENCRYPT_BATCH',
      env.LCM_REENCRYPT_BATCH,
      DEFAULT_REENCRYPT_BATCH,
      problems,
    ),
    sweepIntervalMs: whole(
      'LCM_SECRET_SWEEP_MS',
      env.LCM_SECRET_SWEEP_MS,
      DEFAULT_SWEEP_MS,
      problems,
    ),
  };
  if (config.reencryptBatch < 1) problems.push('LCM_REENCRYPT_BATCH is at least 1');
  if (config.sweepIntervalMs < 10) problems.push('LCM_SECRET_SWEEP_MS is at least 10');
  if (problems.length > 0 || provider === undefined) {
    throw new Error(`key settings: ${problems.join('; ')}`);
  }
  return { provider, ...config };
}

function resolveVault(
  options: KekOptions,
  env: Record<string, string | undefined>,
  problems: string[],
): VaultKekConfig {
  const endpoint = options.vaultAddr ?? env.VAULT_ADDR ?? '';
  const roleId = env.LCM_VAULT_ROLE_ID;
  const secretId = env.LCM_VAULT_SECRET_ID;
  const keyMode = (options.vaultKeyMode ?? env.LCM_VAULT_KEY_MODE ?? 'derived') as VaultKeyMode;

  if (endpoint === '') problems.push('--vault-addr (VAULT_ADDR) is required with --kek vault');
  if (!env.VAULT_TOKEN && !roleId) {
    problems.push('VAULT_TOKEN or LCM_VAULT_ROLE_ID with LCM_VAULT_SECRET_ID is required');
  }
  if (Boolean(roleId) !== Boolean(secretId)) {
    problems.push('LCM_VAULT_ROLE_ID and LCM_VAULT_SECRET_ID go together');
  }
  if (keyMode !== 'derived' && keyMode !== 'per-tenant') {
    problems.push('--vault-key-mode (LCM_VAULT_KEY_MODE) is derived or per-tenant');
  }

  return {
    kind: 'vault',
    endpoint,
    ...(env.VAULT_TOKEN ? { token: env.VAULT_TOKEN } : {}),
    ...(roleId && secretId ? { approle: { roleId, secretId } } : {}),
    ...(env.VAULT_NAMESPACE ? { namespace: env.VAULT_NAMESPACE } : {}),
    transitMount: options.vaultTransitMount ?? env.LCM_VAULT_TRANSIT_MOUNT ?? 'transit',
    keyName: options.vaultKey ?? env.LCM_VAULT_KEY ?? 'lcm',
    keyMode,
  };
}

function resolveKms(
  options: KekOptions,
  env: Record<string, string | undefined>,
  problems: string[],
): AwsKmsKekConfig {
  const keyId = options.kmsKeyId ?? env.LCM_KMS_KEY_ID ?? '';
  const region =
    options.kmsRegion ?? env.LCM_KMS_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '';
  const endpoint = options.kmsEndpoint ?? env.LCM_KMS_ENDPOINT;
  if (keyId === '') problems.push('--kms-key-id (LCM_KMS_KEY_ID) is required with --kek aws-kms');
  if (region === '') problems.push('--kms-region (LCM_KMS_REGION or AWS_REGION) is required');

  return {
    kind: 'aws-kms',
    keyId,
    region,
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: whole('LCM_KMS_MAX_ATTEMPTS', env.LCM_KMS_MAX_ATTEMPTS, 1, problems) || 1,
  };
}

function whole(name: string, raw: string | undefined, fallback: number, problems: string[]) {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    problems.push(`${name} is a whole number`);
    return fallback;
  }
  return value;
}
