import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { commandContext, parseList, withConnection } from '../command-context.ts';
import { itemsOf } from '../origin-client.ts';
import { formatTable, printJson, printLine } from '../output.ts';

/** The roles a token can have. */
export const TOKEN_ROLES = ['admin', 'writer', 'reader', 'agent'];

/** A token as the origin lists it (never with its secret). */
interface TokenListing {
  id: string;
  role: string;
  tenants: string[];
  prefixes?: string[];
  createdAt?: number;
}

/** Registers `token create`, `token ls` and `token revoke`. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens');

  withConnection(token.command('create'))
    .description('create a token; its secret is printed once')
    .requiredOption('--role <role>', `one of ${TOKEN_ROLES.join(', ')}`)
    .requiredOption('--tenants <list>', 'comma-separated tenant ids, or * for all', parseList)
    .option('--prefixes <list>', 'comma-separated key prefixes the token is limited to', parseList)
    .action(
      async (options: { role: string; tenants: string[]; prefixes?: string[]; json?: boolean }) => {
        if (!TOKEN_ROLES.includes(options.role)) {
          throw new CliError('usage', `--role must be one of ${TOKEN_ROLES.join(', ')}`);
        }
        const context = commandContext(options);
        const created = await context.origin.createToken({
          role: options.role,
          tenants: options.tenants,
          prefixes: options.prefixes,
        });
        if (context.json) {
          printJson(created);
          return;
        }
        printLine(`token ${created.id} (${options.role}); keep its secret, it is shown once:`);
        printLine(created.token);
      },
    );

  withConnection(token.command('ls'))
    .description('list tokens (ids, roles, scopes; never the secrets)')
    .action(async (options: { json?: boolean }) => {
      const context = commandContext(options);
      const tokens = itemsOf<TokenListing>(await context.origin.listTokens());
      if (context.json) {
        printJson({ tokens });
        return;
      }
      const rows = tokens.map((item) => [
        item.id,
        item.role,
        item.tenants.join(','),
        item.prefixes?.join(',') || '*',
      ]);
      printLine(formatTable(['ID', 'ROLE', 'TENANTS', 'PREFIXES'], rows));
    });

  withConnection(token.command('revoke'))
    .description('revoke a token at once')
    .argument('<id>', 'token id')
    .action(async (id: string, options: { json?: boolean }) => {
      const context = commandContext(options);
      await context.origin.revokeToken(id);
      if (context.json) printJson({ id, revoked: true });
      else printLine(`revoked token ${id}`);
    });
}
