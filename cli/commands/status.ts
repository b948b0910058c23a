import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { commandContext, withConnection } from '../command-context.ts';
import { itemsOf } from '../origin-client.ts';
import { formatTable, printJson, printLine } from '../output.ts';
import { tenantIdOf, tenantRevisionOf } from './tenant.ts';

/** One connected agent as the origin's `GET /v1/agents` shows it. */
export interface AgentListing {
  agentId: string;
  tokenId?: string;
  connectedAt?: number;
  bytesSent?: number;
  tenants: Record<
    string,
    { appliedRevision: number; lagRevisions?: number; lagMs?: number; lastAckAt?: number | null }
  >;
}

/** Registers `status`. */
export function registerStatusCommand(program: Command): void {
  withConnection(program.command('status'))
    .description("the origin's head revision per tenant and every connected agent's lag")
    .action(async (options: { json?: boolean }) => {
      const context = commandContext(options);
      const [tenantListing, agentListing] = await Promise.all([
        context.origin.listTenants(),
        // Only admins see the agents; others still get the head revisions.
        context.origin.agents().catch((error: unknown) => {
          if (error instanceof CliError && error.kind === 'auth') return undefined;
          throw error;
        }),
      ]);
      const tenants = itemsOf<Parameters<typeof tenantIdOf>[0]>(tenantListing).map((item) => ({
        tenant: tenantIdOf(item),
        headRevision: tenantRevisionOf(item) ?? null,
      }));
      const agents = agentListing === undefined ? null : itemsOf<AgentListing>(agentListing);

      if (context.json) {
        printJson({ origin: context.settings.origin, tenants, agents });
        return;
      }

      printLine(context.paint('bold', `origin ${context.settings.origin}`));
      printLine(
        formatTable(
          ['TENANT', 'HEAD'],
          tenants.map((item) => [item.tenant, item.headRevision ?? '-']),
        ),
      );
      printLine();
      if (agents === null) {
        printLine(context.paint('dim', 'agents: only an admin token may list them'));
        return;
      }
      if (agents.length === 0) {
        printLine(context.paint('dim', 'no agents connected'));
        return;
      }
      const rows = agents.flatMap((agent) =>
        Object.entries(agent.tenants).map(([tenant, progress]) => [
          agent.agentId,
          tenant,
          progress.appliedRevision,
          progress.lagRevisions ?? '-',
          progress.lagMs ?? '-',
          agent.bytesSent ?? '-',
        ]),
      );
      printLine(
        formatTable(
          ['AGENT', 'TENANT', 'APPLIED', 'LAG (REVISIONS)', 'LAG (MS)', 'BYTES SENT'],
          rows,
        ),
      );
    });
}
