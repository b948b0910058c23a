import type { Command } from 'commander';
import { resolveKekConfig, resolveOriginConfig, startOrigin } from '../../origin/index.ts';
import { resolveServerSettings, startServer } from '../server-start.ts';

/** Registers `lcm origin`, which runs an origin server until SIGINT or SIGTERM. */
export function registerOriginCommand(program: Command): void {
  program
    .command('origin')
    .description('run an origin: the authoritative store and its writer API')
    .option('--port <port>', 'TCP port, 0 for any free one (env PORT, default 7400)')
    .option('--host <host>', 'interface to listen on (env LCM_HOST, default 127.0.0.1)')
    .option('--data <dir>', 'data folder: database and admin.token (env LCM_DATA, default ./data)')
    .option('--database-url <url>', 'libSQL URL instead of the file (env LCM_DATABASE_URL)')
    .option('--log-level <level>', 'pino log level (env LCM_LOG_LEVEL, default info)')
    .option('--new-epoch', 'new store epoch, after restoring a backup (env LCM_NEW_EPOCH=1)')
    .option(
      '--kek <provider>',
      'key provider: local, vault or aws-kms (env LCM_KEK, default local)',
    )
    .option('--vault-addr <url>', 'Vault address (env VAULT_ADDR)')
    .option('--vault-key <name>', 'Transit key, or key prefix per tenant (env LCM_VAULT_KEY, lcm)')
    .option('--vault-key-mode <mode>', 'derived or per-tenant (env LCM_VAULT_KEY_MODE, derived)')
    .option('--vault-transit-mount <path>', 'Transit mount (env LCM_VAULT_TRANSIT_MOUNT, transit)')
    .option('--kms-key-id <id>', 'KMS key id or ARN (env LCM_KMS_KEY_ID)')
    .option('--kms-region <region>', 'KMS region (env LCM_KMS_REGION or AWS_REGION)')
    .option('--kms-endpoint <url>', 'KMS-compatible endpoint instead of AWS (env LCM_KMS_ENDPOINT)')
    .action(async (options: Record<string, string | undefined>) => {
      const { config, kek } = resolveServerSettings('origin', () => ({
        config: resolveOriginConfig(
          {
            port: options.port,
            host: options.host,
            data: options.data,
            databaseUrl: options.databaseUrl,
            logLevel: options.logLevel,
            ...(options.newEpoch !== undefined && { newEpoch: true }),
          },
          process.env,
        ),
        kek: resolveKekConfig(
          {
            kek: options.kek,
            vaultAddr: options.vaultAddr,
            vaultKey: options.vaultKey,
            vaultKeyMode: options.vaultKeyMode,
            vaultTransitMount: options.vaultTransitMount,
            kmsKeyId: options.kmsKeyId,
            kmsRegion: options.kmsRegion,
            kmsEndpoint: options.kmsEndpoint,
          },
          process.env,
        ),
      }));
      const origin = await startServer('origin', () => startOrigin(config, { kek }));

      const stop = (signal: NodeJS.Signals) => {
        origin.logger.info({ signal }, 'origin stopping');
        origin.close().then(
          () => process.exit(0),
          (err: unknown) => {
            origin.logger.error({ err }, 'origin did not stop cleanly');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
