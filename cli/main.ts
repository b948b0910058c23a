import { Command, CommanderError } from 'commander';
import { type CliError, EXIT_CODES, toCliError } from './cli-error.ts';
import { registerApplyCommand } from './commands/apply.ts';
import { registerEntryCommands } from './commands/entries.ts';
import { registerHistoryCommands } from './commands/history.ts';
import { registerKeyCommands } from './commands/keys.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerSecretCommands } from './commands/secret.ts';
import { registerSnapshotCommands } from './commands/snapshot.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTenantCommands } from './commands/tenant.ts';
import { registerTokenCommands } from './commands/token.ts';
import { painterFor } from './output.ts';

const SETTINGS_HELP = `
Settings, first found wins: flags (--origin, --token, --token-file), then the environment
(LCM_ORIGIN, LCM_TOKEN, LCM_TOKEN_FILE, LCM_TENANT), then the config file
$XDG_CONFIG_HOME/lcm/config.json (or $LCM_CONFIG) holding {"origin", "token" or "tokenFile"},
then the defaults: origin http://127.0.0.1:7400, and when no token is given anywhere,
./data/admin.token if it exists (the admin token of the origin \`npm start\` runs).

Exit codes: 0 done, 1 unexpected failure, 2 usage, 3 invalid input, 4 not found,
5 conflict, 6 auth, 7 server or network, 8 replay verification failed.`;

/** Commands that talk to an origin or agent and need none of the server code. */
const CLIENT_COMMANDS = [
  'tenant',
  'token',
  'get',
  'put',
  'patch',
  'delete',
  'ls',
  'history',
  'diff',
  'rollback',
  'snapshot',
  'secret',
  'keys',
  'status',
  'apply',
  'replay',
];

/**
 * Builds the `lcm` program. `origin` and `agent` load the server code, which takes a good
 * second of start-up, so they are registered only when `command` (the first argument) is one
 * of them, or is not a known client command (help, a typo): the client commands stay quick.
 */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('lcm')
    .description('LLM-Config-Manager: configuration and secrets for LLM platforms')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', SETTINGS_HELP);

  const withServers = command === undefined || !CLIENT_COMMANDS.includes(command);
  if (withServers) {
    const [{ registerOriginCommand }, { registerAgentCommand }] = await Promise.all([
      import('./commands/origin.ts'),
      import('./commands/agent.ts'),
    ]);
    registerOriginCommand(program);
    registerAgentCommand(program);
  }
  registerTenantCommands(program);
  registerTokenCommands(program);
  registerEntryCommands(program);
  registerHistoryCommands(program);
  registerSnapshotCommands(program);
  registerSecretCommands(program);
  registerKeyCommands(program);
  registerStatusCommand(program);
  registerApplyCommand(program);
  registerReplayCommand(program);
  return program;
}

/**
 * Runs `lcm` with the process arguments. Failures are printed on standard error (as a JSON
 * document with `--json`) and set the exit code of their kind; nothing here calls
 * process.exit, so that `lcm origin` and `lcm agent` keep serving after their action returns.
 */
export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message already; help and --version end with code 0.
      process.exitCode = error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
      return;
    }
    reportFailure(toCliError(error), argv.includes('--json'));
  }
}

function reportFailure(failure: CliError, json: boolean): void {
  process.exitCode = failure.exitCode;
  if (json) {
    const error = {
      kind: failure.kind,
      code: failure.code ?? null,
      message: failure.message,
      exitCode: failure.exitCode,
      ...(failure.details !== undefined && { details: failure.details }),
    };
    process.stderr.write(`${JSON.stringify({ error }, null, 2)}\n`);
    return;
  }
  const paint = painterFor(process.stderr);
  const code = failure.code ? ` [${failure.code}]` : '';
  process.stderr.write(`${paint('red', 'error')}${code}: ${failure.message}\n`);
  if (failure.kind === 'internal' && failure.cause instanceof Error && failure.cause.stack) {
    process.stderr.write(`${failure.cause.stack}\n`);
  }
}
