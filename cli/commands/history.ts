import type { Command } from 'commander';
import type { JsonValue } from '../../core/index.ts';
import { CliError } from '../cli-error.ts';
import {
  type CommandContext,
  checkKey,
  commandContext,
  parseRevision,
  tenantOf,
  withConnection,
  withTenant,
} from '../command-context.ts';
import { pointerGet, renderPatch } from '../json-diff-view.ts';
import { formatTable, printJson, printLine } from '../output.ts';

/** One line of a key's history as the origin returns it. */
interface HistoryRecord {
  revision: number;
  op: string;
  at: number | string;
  actor: string;
  hash: string | null;
  size: number;
}

/** Registers `history`, `diff` and `rollback`. */
export function registerHistoryCommands(program: Command): void {
  withTenant(withConnection(program.command('history')))
    .description('list the changes of a key, newest first: revision, op, time, writer, hash, size')
    .argument('<key>', 'entry key')
    .option('--limit <n>', 'how many changes (the origin allows up to 1000; default 100)', (text) =>
      parseRevision(text, 'limit'),
    )
    .action(async (key: string, options: { tenant?: string; limit?: number; json?: boolean }) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const context = commandContext(options);
      const records = (await context.origin.history(tenant, key, options.limit)) as HistoryRecord[];
      if (context.json) {
        printJson({ tenant, key, history: records });
        return;
      }
      const rows = records.map((record) => [
        record.revision,
        record.op,
        new Date(record.at).toISOString(),
        record.actor,
        record.hash ? record.hash.slice(0, 12) : '-',
        record.size,
      ]);
      printLine(formatTable(['REVISION', 'OP', 'AT', 'ACTOR', 'HASH', 'BYTES'], rows));
    });

  withTenant(withConnection(program.command('diff')))
    .description('show what changed in a key between two revisions (an RFC 6902 patch)')
    .argument('<key>', 'entry key')
    .option('--from <revision>', 'older revision (default: the one before --to)', (text) =>
      parseRevision(text, 'from'),
    )
    .option('--to <revision>', 'newer revision (default: the latest)', (text) =>
      parseRevision(text, 'to'),
    )
    .action(
      async (
        key: string,
        options: { tenant?: string; from?: number; to?: number; json?: boolean },
      ) => {
        const tenant = tenantOf(options);
        checkKey(key);
        const context = commandContext(options);
        const { from, to } = await diffRange(context, tenant, key, options);
        const patch = await context.origin.diff(tenant, key, from, to);
        if (context.json) {
          printJson({ tenant, key, from, to, patch });
          return;
        }
        printLine(context.paint('bold', `${tenant}/${key}: revision ${from} -> ${to}`));
        if (patch.length === 0) {
          printLine(context.paint('dim', 'no differences'));
          return;
        }

        const before = await context.origin
          .getEntry(tenant, key, { revision: from })
          .then((entry): JsonValue | undefined => entry.value)
          .catch(() => undefined);
        const lookup = (path: string) =>
          before === undefined ? undefined : pointerGet(before, path);
        for (const line of renderPatch(patch, context.paint, '', lookup)) printLine(line);
      },
    );

  withTenant(withConnection(program.command('rollback')))
    .description('restore an earlier revision of a key as a new revision')
    .argument('<key>', 'entry key')
    .requiredOption('--to <revision>', 'the revision to restore', (text) =>
      parseRevision(text, 'to'),
    )
    .action(async (key: string, options: { tenant?: string; to: number; json?: boolean }) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const context = commandContext(options);
      const result = await context.origin.rollback(tenant, key, options.to);
      if (context.json) printJson({ tenant, key, restored: options.to, ...result });
      else {
        printLine(
          `restored ${tenant}/${key} to its value at revision ${options.to}, ` +
            `as revision ${result.revision}`,
        );
      }
    });
}

/**
 * The revisions to compare: `--to` defaults to the key's last change and `--from` to the change
 * before `--to`, both found in the key's history.
 */
async function diffRange(
  context: CommandContext,
  tenant: string,
  key: string,
  options: { from?: number; to?: number },
): Promise<{ from: number; to: number }> {
  if (options.from !== undefined && options.to !== undefined) {
    return { from: options.from, to: options.to };
  }
  const revisions = ((await context.origin.history(tenant, key)) as HistoryRecord[])
    .map((record) => record.revision)
    .sort((a, b) => b - a);
  const to = options.to ?? revisions[0]!;
  const from = options.from ?? revisions.find((revision) => revision < to);
  if (from === undefined) {
    throw new CliError('usage', `${key} has no change before revision ${to}: give --from`);
  }
  return { from, to };
}
