import type { Command } from 'commander';
import {
  commandContext,
  parseRevision,
  tenantOf,
  withConnection,
  withTenant,
} from '../command-context.ts';
import { itemsOf } from '../origin-client.ts';
import { formatTable, printJson, printLine } from '../output.ts';

/** Registers `snapshot create` and `snapshot ls`. */
export function registerSnapshotCommands(program: Command): void {
  const snapshot = program
    .command('snapshot')
    .description('name a tenant revision to read it again later');

  withTenant(withConnection(snapshot.command('create')))
    .description('name the current (or a given) revision of a tenant')
    .argument('<name>', 'snapshot name')
    .option('--revision <n>', 'the revision to name (default: the head)', (text) =>
      parseRevision(text),
    )
    .action(
      async (name: string, options: { tenant?: string; revision?: number; json?: boolean }) => {
        const tenant = tenantOf(options);
        const context = commandContext(options);
        const created = (await context.origin.createSnapshot(tenant, name, options.revision)) as {
          revision?: number;
        };
        if (context.json) printJson({ tenant, ...created });
        else printLine(`snapshot ${name} of ${tenant} names revision ${created?.revision ?? '?'}`);
      },
    );

  withTenant(withConnection(snapshot.command('ls')))
    .description('list the snapshots of a tenant')
    .action(async (options: { tenant?: string; json?: boolean }) => {
      const tenant = tenantOf(options);
      const context = commandContext(options);
      const listing = await context.origin.listSnapshots(tenant);
      const snapshots = itemsOf<{
        name: string;
        revision: number;
        at?: number;
        createdAt?: number;
      }>(listing);
      if (context.json) {
        printJson({ tenant, snapshots });
        return;
      }
      const rows = snapshots.map((item) => {
        const at = item.at ?? item.createdAt;
        return [item.name, item.revision, at ? new Date(at).toISOString() : '-'];
      });
      printLine(formatTable(['NAME', 'REVISION', 'CREATED'], rows));
    });
}
