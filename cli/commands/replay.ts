import { stat } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import {
  checkKey,
  commandContext,
  parseList,
  parsePositive,
  tenantOf,
  withConnection,
  withTenant,
} from '../command-context.ts';
import { formatTable, type Painter, printJson, printLine } from '../output.ts';
import type { LatencySummary, ReplayReport } from '../replay-report.ts';
import { replayFiles, runReplay } from '../replay-runner.ts';

/** Default wait, after the last write, for every agent to have the last version. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 30_000;

/** Versions to write before a progress bar is worth showing. */
const PROGRESS_THRESHOLD = 10;

interface ReplayOptions {
  tenant?: string;
  key: string;
  agents?: string[];
  rate?: number;
  timeout: number;
  json?: boolean;
}

/** Registers `replay`. */
export function registerReplayCommand(program: Command): void {
  withTenant(withConnection(program.command('replay')))
    .description(
      'write every JSON/YAML file of a folder, in name order, as successive versions of one ' +
        'key, and measure how they reach the agents',
    )
    .argument('<dir>', 'folder of versions, such as 0001.json ... 0450.json')
    .requiredOption('--key <key>', 'the key to write every version to')
    .option('--agents <urls>', 'comma-separated agent URLs to measure', parseList)
    .option('--rate <n>', 'at most n versions per second (default: as fast as possible)', (text) =>
      parsePositive(text, 'rate'),
    )
    .option(
      '--timeout <ms>',
      'how long to wait after the last write for the agents',
      (text) => parsePositive(text, 'timeout'),
      DEFAULT_SETTLE_TIMEOUT_MS,
    )
    .addHelpText(
      'after',
      '\nPropagation of a version to an agent is the time from the origin acknowledging the ' +
        'write\nto the agent showing the key at that revision or a later one (watched with ' +
        'long polls).\nBytes are what each agent received from the origin (its metric ' +
        'lcm_agent_received_bytes_total)\nagainst the bytes of every full value written. ' +
        'Exit code 8 when a version never arrived\nor a final hash differs.',
    )
    .action(async (dir: string, options: ReplayOptions) => {
      const tenant = tenantOf(options);
      checkKey(options.key);
      const isFolder = await stat(dir).then(
        (info) => info.isDirectory(),
        () => false,
      );
      if (!isFolder) throw new CliError('usage', `${dir} is not a folder`);

      const context = commandContext(options);
      const files = await replayFiles(dir);
      const bar =
        !context.json && process.stderr.isTTY && files.length >= PROGRESS_THRESHOLD
          ? new cliProgress.SingleBar(
              { format: '{phase} {bar} {value}/{total} versions', stream: process.stderr },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(files.length, 0, { phase: 'reading  ' });

      let report: ReplayReport;
      try {
        report = await runReplay({
          origin: context.origin,
          tenant,
          key: options.key,
          files,
          agents: options.agents ?? [],
          ratePerSecond: options.rate,
          settleTimeoutMs: options.timeout,
          onPrepare: (prepared) => bar?.update(prepared),
          onWrite: (written) => bar?.update(written, { phase: 'replaying' }),
        });
      } finally {
        bar?.stop();
      }

      if (context.json) printJson(report);
      else printReport(report, context.paint);
      if (!report.ok) {
        throw new CliError('verification', describeFailure(report), { details: report });
      }
    });
}

function printReport(report: ReplayReport, paint: Painter): void {
  printLine(
    paint(
      'bold',
      `replayed ${report.versions} versions of ${report.tenant}/${report.key} ` +
        `(revisions ${report.firstRevision}..${report.lastRevision})`,
    ),
  );
  printLine(
    `  writes: ${(report.writeMs / 1000).toFixed(2)} s, ${report.versionsPerSecond} versions/s, ` +
      `${formatBytes(report.fullValueBytes)} of full values`,
  );
  if (report.endToEndMs !== null) {
    printLine(`  last version at every agent after ${(report.endToEndMs / 1000).toFixed(2)} s`);
  }
  printLine(`  origin hash of the last version: ${report.originHash}`);
  if (report.agents.length === 0) return;

  printLine(`  propagation over all agents (ms): ${formatLatency(report.propagationMs)}`);
  printLine();
  const rows = report.agents.map((agent) => [
    agent.url,
    `${agent.arrived}/${report.versions}`,
    agent.propagationMs.p50 ?? '-',
    agent.propagationMs.p95 ?? '-',
    agent.propagationMs.p99 ?? '-',
    agent.propagationMs.max ?? '-',
    agent.bytesReceived === null ? '-' : formatBytes(agent.bytesReceived),
    agent.bytesRatio === null ? '-' : agent.bytesRatio.toFixed(4),
    agent.hashMatches ? paint('green', 'match') : paint('red', 'DIFFERS'),
  ]);
  printLine(
    formatTable(
      ['AGENT', 'ARRIVED', 'P50 MS', 'P95 MS', 'P99 MS', 'MAX MS', 'BYTES IN', 'RATIO', 'HASH'],
      rows,
    ),
  );
  for (const agent of report.agents) {
    if (agent.missing.length === 0) continue;
    const shown = agent.missing.slice(0, 20).join(', ');
    const more = agent.missing.length > 20 ? ` and ${agent.missing.length - 20} more` : '';
    printLine(paint('red', `  ${agent.url} never showed versions ${shown}${more}`));
  }
}

function describeFailure(report: ReplayReport): string {
  const missing = report.agents.filter((agent) => agent.missing.length > 0).length;
  const differing = report.agents.filter((agent) => !agent.hashMatches).length;
  const parts: string[] = [];
  if (missing > 0) parts.push(`${missing} agent(s) did not show every version in time`);
  if (differing > 0) parts.push(`${differing} agent(s) hold a value whose hash differs`);
  if (report.originHash !== report.expectedHash) {
    parts.push("the origin's last value differs from the last file");
  }
  return `replay verification failed: ${parts.join('; ')}`;
}

function formatLatency(summary: LatencySummary): string {
  if (summary.count === 0) return 'no samples';
  return `p50 ${summary.p50}, p95 ${summary.p95}, p99 ${summary.p99}, max ${summary.max}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
