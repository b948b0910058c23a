import type { Command } from 'commander';
import { pino } from 'pino';
import { SECRET_FIELD_PATHS } from '../../core/index.ts';
import { EdgeAgent, resolveAgentConfig } from '../../edge-agent/index.ts';
import { resolveServerSettings, startServer } from '../server-start.ts';

/** Registers `lcm agent`, which runs an edge agent until SIGINT or SIGTERM. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run an edge agent: a local replica answering reads')
    .option('--origin <url>', 'origin URL, ws://host:7400 (env LCM_ORIGIN)')
    .option('--token <token>', 'agent-role token (env LCM_AGENT_TOKEN or LCM_TOKEN)')
    .option('--tenants <list>', 'comma-separated tenants to replicate (env LCM_TENANTS)')
    .option('--port <port>', 'read API port, 0 for any free one (env LCM_AGENT_PORT, default 7401)')
    .option('--host <host>', 'read API address (env LCM_AGENT_HOST, default 127.0.0.1)')
    .option('--data <dir>', 'replica folder (env LCM_AGENT_DATA, default ./data/agent)')
    .option('--log-level <level>', 'pino log level (env LCM_LOG_LEVEL, default info)')
    .option(
      '--secret-token <token>',
      'local token that reveals secrets (env LCM_AGENT_SECRET_TOKEN)',
    )
    .action(async (options: Record<string, string | undefined>) => {
      const config = resolveServerSettings('agent', () => resolveAgentConfig(options, process.env));
      const logger = pino({
        level: options.logLevel ?? process.env.LCM_LOG_LEVEL ?? 'info',
        redact: { paths: [...SECRET_FIELD_PATHS], censor: '[redacted]' },
      });
      const syncLog = logger.child({ component: 'sync' });

      const agent = await startServer('agent', () => EdgeAgent.start(config));
      const keyLog = logger.child({ component: 'secrets' });
      agent.keyring.onEvent = (event) => {
        if (event.type === 'data_keys_received') {
          keyLog.info({ tenant: event.tenant, dekVersions: event.versions }, 'data keys received');
        } else {
          keyLog.warn(
            { tenant: event.tenant, dekVersion: event.version, code: event.code },
            'data key refused',
          );
        }
      };
      agent.onSyncEvent((event) => {
        switch (event.type) {
          case 'connected':
            return syncLog.info({ origin: event.url }, 'connected to origin');
          case 'disconnected':
            return syncLog.warn({ code: event.code, retryInMs: event.retryInMs }, 'origin lost');
          case 'snapshot':
            return syncLog.info({ tenant: event.tenant, revision: event.revision }, 'snapshot');
          case 'resync':
            return syncLog.warn({ tenant: event.tenant, reason: event.reason }, 'resync');
          case 'protocol-error':
            return syncLog.warn({ err: event.error }, 'frame rejected');
          case 'origin-error':
            return syncLog.warn({ code: event.code, tenant: event.tenant }, 'origin error');
          default:
            return syncLog.debug({ tenant: event.tenant, revision: event.revision }, 'applied');
        }
      });
      logger.info(
        { port: agent.port, host: config.host, agentId: agent.agentId, tenants: config.tenants },
        'agent listening',
      );

      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'agent stopping');
        agent.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'agent did not stop cleanly');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
