import type { Command } from 'commander';
import { commandContext, tenantOf, withConnection, withTenant } from '../command-context.ts';
import { printJson, printLine } from '../output.ts';

/** Registers `keys ls`, `keys rotate` and `keys rewrap`. */
export function registerKeyCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('data keys that encrypt secrets: list, rotate, re-wrap');

  withTenant(withConnection(keys.command('ls')))
    .description("a tenant's data key versions and the state of their rotation")
    .action(async (options: { tenant?: string; json?: boolean }) => {
      const tenant = tenantOf(options);
      const context = commandContext(options);
      const listing = await context.origin.dataKeys(tenant);
      // The listing's shape belongs to the key provider; it is printed as the origin gives it.
      printJson(listing);
    });

  withTenant(withConnection(keys.command('rotate')))
    .description("start a new data key version for a tenant's secrets (admin)")
    .action(async (options: { tenant?: string; json?: boolean }) => {
      const tenant = tenantOf(options);
      const context = commandContext(options);
      const status = await context.origin.rotateDataKey(tenant);
      if (context.json) printJson({ tenant, rotation: status });
      else {
        printLine(`data key rotation of ${tenant} started; old secrets are re-encrypted behind it`);
        printLine(JSON.stringify(status));
      }
    });

  withConnection(keys.command('rewrap'))
    .description("re-wrap every tenant's data keys under the current key-encryption key (admin)")
    .action(async (options: { json?: boolean }) => {
      const context = commandContext(options);
      const result = await context.origin.rewrapDataKeys();
      if (context.json) printJson(result);
      else printLine(`re-wrapped data keys: ${JSON.stringify(result)}`);
    });
}
