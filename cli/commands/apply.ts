import { stat } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { contentHash, diffValues, isKeyPrefix } from '../../core/index.ts';
import {
  type ApplyPlan,
  commitOfPlan,
  isEmptyPlan,
  type LocalEntry,
  planApply,
} from '../apply-plan.ts';
import { CliError } from '../cli-error.ts';
import {
  type CommandContext,
  commandContext,
  tenantOf,
  withConnection,
  withTenant,
} from '../command-context.ts';
import { type FileProblem, readConfigTree } from '../config-tree.ts';
import { renderValueDiff } from '../json-diff-view.ts';
import type { EntrySummary } from '../origin-client.ts';
import { painterFor, printJson, printLine } from '../output.ts';

/** Remote values to read before a progress bar is worth showing. */
export const PROGRESS_THRESHOLD = 20;

interface ApplyOptions {
  file: string;
  tenant?: string;
  prefix?: string;
  prune?: boolean;
  dryRun?: boolean;
  addOnly?: boolean;
  secrets?: string;
  json?: boolean;
}

/** Registers `apply`. */
export function registerApplyCommand(program: Command): void {
  withTenant(withConnection(program.command('apply')))
    .description(
      'make a tenant hold the JSON and YAML files of a folder, in one atomic commit: ' +
        'each file becomes the key of its relative path without extension',
    )
    .requiredOption('-f, --file <dir>', 'folder of .json, .yaml and .yml files')
    .option('--prefix <prefix>', 'put every key under this prefix (and compare only under it)')
    .option('--prune', 'delete keys under the prefix that no file names (never secrets)')
    .option('--dry-run', 'print the plan and commit nothing')
    .option('--add-only', 'only add keys that do not exist; leave existing keys as they are')
    .option(
      '--secrets <dir>',
      'also add the files of this folder as secrets, in the same commit; a secret that exists ' +
        'is left as it is (its value is not compared)',
    )
    .addHelpText(
      'after',
      '\nA YAML file with several documents becomes an array of them. Hidden files are ' +
        'skipped.\nThe commit expects every key it touches at the revision the plan saw ' +
        '(absent for\nadds): if anyone changes one of them in between, nothing is committed ' +
        'and apply\nfails with exit code 5. Files that do not parse are named with line and ' +
        'column,\nand nothing is committed (exit code 3).',
    )
    .action(async (options: ApplyOptions) => runApply(options));
}

async function runApply(options: ApplyOptions): Promise<void> {
  const tenant = tenantOf(options);
  const prefix = options.prefix ?? '';
  if (prefix && !isKeyPrefix(prefix)) {
    throw new CliError('usage', `--prefix "${prefix}" cannot start a key`);
  }
  for (const folder of [options.file, options.secrets]) {
    if (folder !== undefined && !(await isFolder(folder))) {
      throw new CliError('usage', `${folder} is not a folder`);
    }
  }

  const context = commandContext(options);
  const tree = await readConfigTree(options.file, prefix);
  const secretTree = options.secrets
    ? await readConfigTree(options.secrets, prefix)
    : { documents: [], problems: [] };
  const problems = [...tree.problems, ...secretTree.problems];
  const parsed = tree.documents.length + secretTree.documents.length;
  if (problems.length > 0) throw parseFailure(problems, parsed);

  const secretEntries = secretTree.documents.map((document) => ({
    ...document,
    kind: 'secret' as const,
  }));
  const configKeys = new Set(tree.documents.map((document) => document.key));
  const twice = secretEntries.find((entry) => configKeys.has(entry.key));
  if (twice) {
    throw new CliError('usage', `${twice.key} is named by a config file and by a secret file`);
  }
  const local: LocalEntry[] = await Promise.all(
    [...tree.documents, ...secretEntries].map(async (document) => ({
      ...document,
      hash: await contentHash(document.value),
    })),
  );
  const remotePrefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  const remote = await listOrEmpty(context, tenant, remotePrefix);

  const plan = await planWithProgress(context, tenant, local, remote, options);
  if (!context.json) printPlan(context, plan);

  if (options.dryRun || isEmptyPlan(plan)) {
    if (context.json) printJson(planDocument(tenant, plan, { dryRun: options.dryRun === true }));
    else printLine(options.dryRun ? 'dry run: nothing committed' : 'nothing to change');
    return;
  }

  if (remote.length === 0) await context.origin.createTenant(tenant).catch(ignoreAuthFailure);
  const { changes, expect } = commitOfPlan(plan);
  let revision: number;
  try {
    revision = (await context.origin.commit(tenant, changes, expect)).revision;
  } catch (error) {
    if (error instanceof CliError && error.kind === 'conflict') {
      throw new CliError(
        'conflict',
        `nothing committed: a key changed after the plan was made (${error.message}); ` +
          'run apply again to see the new plan',
        { code: error.code, cause: error },
      );
    }
    throw error;
  }

  if (context.json) printJson(planDocument(tenant, plan, { dryRun: false, revision }));
  else printLine(`committed ${changes.length} changes to ${tenant} as revision ${revision}`);
}

function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

async function listOrEmpty(
  context: CommandContext,
  tenant: string,
  prefix: string,
): Promise<EntrySummary[]> {
  try {
    return await context.origin.listEntries(tenant, prefix);
  } catch (error) {
    // A tenant that does not exist yet holds nothing; apply creates it before committing.
    if (error instanceof CliError && error.kind === 'not_found') return [];
    throw error;
  }
}

function ignoreAuthFailure(error: unknown): void {
  if (!(error instanceof CliError && error.kind === 'auth')) throw error;
}

async function planWithProgress(
  context: CommandContext,
  tenant: string,
  local: LocalEntry[],
  remote: EntrySummary[],
  options: ApplyOptions,
): Promise<ApplyPlan> {
  const remoteKeys = new Set(remote.map((entry) => entry.key));
  const toRead = local.filter((entry) => remoteKeys.has(entry.key)).length;
  const bar =
    !context.json && process.stderr.isTTY && toRead >= PROGRESS_THRESHOLD
      ? new cliProgress.SingleBar(
          { format: 'comparing {bar} {value}/{total} keys', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(toRead, 0);

  try {
    return await planApply(local, remote, {
      prune: options.prune === true,
      addOnly: options.addOnly === true,
      readRemote: async (key) => {
        bar?.increment();
        return (await context.origin.getEntry(tenant, key)).value;
      },
    });
  } finally {
    bar?.stop();
  }
}

function printPlan(context: CommandContext, plan: ApplyPlan): void {
  const { paint } = context;
  for (const entry of plan.adds) printLine(paint('green', `+ ${entry.key}  (${entry.file})`));
  for (const entry of plan.changes) {
    printLine(paint('yellow', `~ ${entry.key}  (${entry.file}, at revision ${entry.revision})`));
    for (const line of renderValueDiff(entry.previous, entry.value, paint)) printLine(line);
  }
  for (const entry of plan.deletes) printLine(paint('red', `- ${entry.key}`));
  for (const key of plan.keptSecrets) printLine(paint('dim', `  ${key} is a secret: left alone`));
  for (const key of plan.keptChanged) {
    printLine(paint('dim', `  ${key} differs from its file: left alone (--add-only)`));
  }

  printLine(
    paint(
      'bold',
      `plan: ${plan.adds.length} to add, ${plan.changes.length} to change, ` +
        `${plan.deletes.length} to delete, ${plan.unchanged.length} unchanged`,
    ),
  );
}

function planDocument(
  tenant: string,
  plan: ApplyPlan,
  outcome: { dryRun: boolean; revision?: number },
) {
  return {
    tenant,
    dryRun: outcome.dryRun,
    committed: outcome.revision !== undefined,
    revision: outcome.revision ?? null,
    adds: plan.adds.map(({ key, file }) => ({ key, file })),
    changes: plan.changes.map(({ key, file, revision, previous, value }) => ({
      key,
      file,
      revision,
      patch: diffValues(previous, value),
    })),
    deletes: plan.deletes.map(({ key, revision }) => ({ key, revision })),
    unchanged: plan.unchanged.length,
    keptSecrets: plan.keptSecrets,
    keptChanged: plan.keptChanged,
  };
}

function parseFailure(problems: FileProblem[], parsed: number): CliError {
  const paint = painterFor(process.stderr);
  const lines = problems.map((problem) => {
    const where = problem.line === undefined ? '' : `:${problem.line}:${problem.column}`;
    return `  ${paint('red', `${problem.file}${where}`)}: ${problem.message}`;
  });
  return new CliError(
    'invalid',
    `${problems.length} file(s) cannot be applied (${parsed} parsed); nothing committed:\n` +
      lines.join('\n'),
    { code: 'bad_value', details: { problems } },
  );
}
