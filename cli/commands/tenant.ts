import type { Command } from 'commander';
import { commandContext, tenantOf, withConnection } from '../command-context.ts';
import { itemsOf } from '../origin-client.ts';
import { formatTable, printJson, printLine } from '../output.ts';

/** A tenant as the origin lists it. */
interface TenantListing {
  tenant?: string;
  id?: string;
  name?: string;
  revision?: number;
  headRevision?: number;
}

/** The id of a listed tenant, whatever the origin calls the field. */
export function tenantIdOf(item: TenantListing | string): string {
  if (typeof item === 'string') return item;
  return item.tenant ?? item.id ?? item.name ?? '?';
}

/** The head revision of a listed tenant, when the origin gives it. */
export function tenantRevisionOf(item: TenantListing | string): number | undefined {
  if (typeof item === 'string') return undefined;
  return item.headRevision ?? item.revision;
}

/** Registers `tenant create` and `tenant ls`. */
export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('create and list tenants');

  withConnection(tenant.command('create'))
    .description('create a tenant (nothing happens when it exists)')
    .argument('<tenant>', 'tenant id: [a-z0-9][a-z0-9-]{0,62}')
    .action(async (id: string, options: { json?: boolean }) => {
      tenantOf({ tenant: id });
      const context = commandContext(options);
      const created = await context.origin.createTenant(id);
      if (context.json) printJson({ tenant: id, created });
      else printLine(created ? `created tenant ${id}` : `tenant ${id} exists already`);
    });

  withConnection(tenant.command('ls'))
    .description('list the tenants this token may see, with their head revisions')
    .action(async (options: { json?: boolean }) => {
      const context = commandContext(options);
      const tenants = itemsOf<TenantListing | string>(await context.origin.listTenants());
      if (context.json) {
        printJson({ tenants });
        return;
      }
      const rows = tenants.map((item) => [tenantIdOf(item), tenantRevisionOf(item) ?? '-']);
      printLine(formatTable(['TENANT', 'REVISION'], rows));
    });
}
