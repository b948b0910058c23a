import type { Command } from 'commander';
import type { JsonValue } from '../../core/index.ts';
import {
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
    .description('list every change of a key: revision, operation, time, writer, hash, size')
    .argument('<key>', 'entry key')
    .action(async (key: string, options: { tenant?: string; json?: boolean }) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const context = commandContext(options);
      const records = (await context.origin.history(tenant, key)) as HistoryRecord[];
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
        const patch = await context.origin.diff(tenant, key, options.from, options.to);
        if (context.json) {
          printJson({ tenant, key, from: options.from, to: options.to, patch });
          return;
        }
        if (patch.length === 0) {
          printLine(context.paint('dim', 'no differences'));
          return;
        }

        let before: JsonValue | undefined;
        if (options.from !== undefined) {
          before = (await context.origin.getEntry(tenant, key, { revision: options.from })).value;
        }
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
