import type { Command } from 'commander';
import { AgentClient } from '../agent-client.ts';
import { CliError } from '../cli-error.ts';
import {
  checkKey,
  commandContext,
  parseRevision,
  tenantOf,
  withConnection,
  withTenant,
} from '../command-context.ts';
import {
  type EntrySummary,
  itemsOf,
  type PatchFormat,
  type WriteResult,
} from '../origin-client.ts';
import { formatTable, printJson, printLine } from '../output.ts';
import { readValue } from '../value-input.ts';

interface ReadOptions {
  tenant?: string;
  revision?: number;
  snapshot?: string;
  agent?: string;
  json?: boolean;
}

interface WriteFlags {
  tenant?: string;
  file?: string;
  ifRevision?: number;
  ifAbsent?: boolean;
  format?: PatchFormat;
  json?: boolean;
}

/** Registers `get`, `put`, `patch`, `delete` and `ls`. */
export function registerEntryCommands(program: Command): void {
  withTenant(withConnection(program.command('get')))
    .description('print the value of a key (exactly as stored, as JSON)')
    .argument('<key>', 'entry key, such as routers/prod/default')
    .option('--revision <n>', 'the value at an earlier revision', (text) => parseRevision(text))
    .option('--snapshot <name>', 'the value in a named snapshot')
    .option('--agent <url>', 'read from an edge agent instead of the origin')
    .action(async (key: string, options: ReadOptions) => {
      const tenant = tenantOf(options);
      checkKey(key);
      if (options.agent) return getFromAgent(options.agent, tenant, key, options);

      const context = commandContext(options);
      const entry = await context.origin.getEntry(tenant, key, options);
      if (context.json)
        printJson({
          tenant,
          key,
          revision: entry.revision,
          headRevision: entry.headRevision,
          value: entry.value,
        });
      else printLine(entry.text.replace(/\n$/, ''));
    });

  withTenant(withConnection(program.command('put')))
    .description('write a whole value; from an argument, --file (JSON or YAML) or stdin')
    .argument('<key>', 'entry key')
    .argument('[value]', 'the value as JSON text')
    .option('-f, --file <path>', 'read the value from a file (- for stdin)')
    .option('--if-revision <n>', 'write only if the key is at this revision', (text) =>
      parseRevision(text, 'if-revision'),
    )
    .option('--if-absent', 'write only if the key does not exist yet')
    .action(async (key: string, argument: string | undefined, options: WriteFlags) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const value = await readValue({ argument, file: options.file });
      const context = commandContext(options);
      const result = await context.origin.putEntry(tenant, key, value, {
        ifRevision: options.ifRevision,
        ifAbsent: options.ifAbsent,
      });
      reportWrite(context.json, tenant, key, 'wrote', result);
    });

  withTenant(withConnection(program.command('patch')))
    .description('change a value with a JSON Patch (RFC 6902) or a merge patch (RFC 7396)')
    .argument('<key>', 'entry key')
    .argument(
      '[patch]',
      'the patch as JSON text; an array is a JSON Patch, an object a merge patch',
    )
    .option('-f, --file <path>', 'read the patch from a file (- for stdin)')
    .option(
      '--format <format>',
      'json-patch or merge-patch (default: from the patch shape)',
      (text) => {
        if (text !== 'json-patch' && text !== 'merge-patch') {
          throw new CliError('usage', '--format is json-patch or merge-patch');
        }
        return text;
      },
    )
    .option('--if-revision <n>', 'patch only if the key is at this revision', (text) =>
      parseRevision(text, 'if-revision'),
    )
    .action(async (key: string, argument: string | undefined, options: WriteFlags) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const patch = await readValue({ argument, file: options.file }, 'patch');
      const format = options.format ?? (Array.isArray(patch) ? 'json-patch' : 'merge-patch');
      const context = commandContext(options);
      const result = await context.origin.patchEntry(tenant, key, patch, format, {
        ifRevision: options.ifRevision,
      });
      reportWrite(context.json, tenant, key, 'patched', result);
    });

  withTenant(withConnection(program.command('delete')))
    .description('delete a key (its history stays)')
    .argument('<key>', 'entry key')
    .option('--if-revision <n>', 'delete only if the key is at this revision', (text) =>
      parseRevision(text, 'if-revision'),
    )
    .action(async (key: string, options: WriteFlags) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const context = commandContext(options);
      const result = await context.origin.deleteEntry(tenant, key, {
        ifRevision: options.ifRevision,
      });
      reportWrite(context.json, tenant, key, 'deleted', result);
    });

  withTenant(withConnection(program.command('ls')))
    .description('list keys with their revision and content hash')
    .option('--prefix <prefix>', 'only keys starting with this prefix', '')
    .option('--agent <url>', 'list from an edge agent instead of the origin')
    .action(
      async (options: { tenant?: string; prefix: string; agent?: string; json?: boolean }) => {
        const tenant = tenantOf(options);
        const context = commandContext(options);
        const entries = options.agent
          ? itemsOf<EntrySummary>(
              await new AgentClient(options.agent).listEntries(tenant, options.prefix),
            )
          : await context.origin.listEntries(tenant, options.prefix);
        if (context.json) {
          printJson({ tenant, prefix: options.prefix, items: entries });
          return;
        }
        if (entries.length === 0) {
          printLine(context.paint('dim', 'no keys'));
          return;
        }
        const rows = entries.map((entry) => [
          entry.key,
          entry.revision,
          entry.kind ?? 'config',
          entry.hash.slice(0, 12),
        ]);
        printLine(formatTable(['KEY', 'REVISION', 'KIND', 'HASH'], rows));
      },
    );
}

async function getFromAgent(
  url: string,
  tenant: string,
  key: string,
  options: ReadOptions,
): Promise<void> {
  if (options.revision !== undefined || options.snapshot !== undefined) {
    throw new CliError('usage', '--agent reads the current value only: drop --revision/--snapshot');
  }
  const read = await new AgentClient(url).getEntry(tenant, key);
  if (options.json) {
    printJson({
      tenant,
      key,
      revision: read.revision,
      headRevision: read.headRevision,
      stalenessMs: read.stalenessMs,
      value: read.value,
    });
    return;
  }
  printLine(read.text.replace(/\n$/, ''));
}

function reportWrite(
  json: boolean,
  tenant: string,
  key: string,
  verb: string,
  result: WriteResult,
): void {
  if (json) printJson({ tenant, key, ...result });
  else printLine(`${verb} ${tenant}/${key} at revision ${result.revision}`);
}
