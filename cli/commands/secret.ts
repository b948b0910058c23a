import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
import type { SecretMetadata } from '../origin-client.ts';
import { printJson, printLine } from '../output.ts';
import { readValue } from '../value-input.ts';

/** Overlap of `secret rotate` when none is given: the old value stays valid this long. */
export const DEFAULT_OVERLAP_SECONDS = 300;

/**
 * The agent's local secret token `npm start` writes, used by `secret get --agent --reveal` when
 * no other is given, relative to the working directory.
 */
export const LOCAL_AGENT_SECRET_TOKEN_FILE = 'data/agent-secret.token';

interface SecretGetOptions {
  tenant?: string;
  reveal?: boolean;
  previous?: boolean;
  revision?: number;
  agent?: string;
  secretToken?: string;
  json?: boolean;
}

/** Registers `secret put`, `secret get` and `secret rotate`. */
export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description('write, read and rotate secrets (encrypted at the origin and the agents)');

  withTenant(withConnection(secret.command('put')))
    .description('write a secret value; from an argument, --file or stdin (never logged)')
    .argument('<key>', 'secret key, such as providers/openai/api-key')
    .argument(
      '[value]',
      'the value as JSON text, or a bare string such as sk-live-... (prefer --file or stdin: ' +
        'arguments show in ps)',
    )
    .option('-f, --file <path>', 'read the value from a file (- for stdin)')
    .option('--if-revision <n>', 'write only if the secret is at this revision', (text) =>
      parseRevision(text, 'if-revision'),
    )
    .addHelpText(
      'after',
      '\nA value that is not JSON and does not start with {, [ or " is stored as a JSON string:\n' +
        '`lcm secret put api/key sk-live-123` stores "sk-live-123" (from a file or stdin, without\n' +
        'its last line break). JSON values (objects, numbers, "quoted strings") work as before.',
    )
    .action(async (key: string, argument: string | undefined, options: WriteFlags) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const value = await readValue(
        { argument, file: options.file, bareString: true },
        'secret value',
      );
      const context = commandContext(options);
      const written = await context.origin.putSecret(tenant, key, value, {
        ifRevision: options.ifRevision,
      });
      if (context.json) printJson({ tenant, ...written });
      else
        printLine(
          `stored secret ${tenant}/${key} version ${written.version} at revision ${written.revision}`,
        );
    });

  withTenant(withConnection(secret.command('get')))
    .description("show a secret's metadata; with --reveal, print its value")
    .argument('<key>', 'secret key')
    .option('--reveal', 'print the plaintext value (needs a token allowed to reveal)')
    .option('--previous', 'the value before the last rotation, while its overlap lasts')
    .option('--revision <n>', 'the secret at an earlier revision', (text) => parseRevision(text))
    .option('--agent <url>', 'read at an edge agent instead of the origin')
    .option(
      '--secret-token <token>',
      `the agent's local secret token for --reveal (env LCM_AGENT_SECRET_TOKEN; default ./${LOCAL_AGENT_SECRET_TOKEN_FILE})`,
    )
    .action(async (key: string, options: SecretGetOptions) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const read = options.agent
        ? await readAtAgent(options.agent, tenant, key, options)
        : await commandContext(options).origin.getSecret(tenant, key, options);

      if (options.json) printJson({ tenant, ...read });
      else if (options.reveal) printLine(JSON.stringify(read.value));
      else printLine(describeSecret(tenant, read));
    });

  withTenant(withConnection(secret.command('rotate')))
    .description('replace a secret value; the old one stays valid for the overlap')
    .argument('<key>', 'secret key')
    .argument('[value]', 'the new value as JSON text')
    .option('-f, --file <path>', 'read the new value from a file (- for stdin)')
    .option(
      '--overlap <seconds>',
      'how long the old value stays valid',
      (text) => parseRevision(text, 'overlap'),
      DEFAULT_OVERLAP_SECONDS,
    )
    .action(async (key: string, argument: string | undefined, options: WriteFlags) => {
      const tenant = tenantOf(options);
      checkKey(key);
      const value = await readValue({ argument, file: options.file }, 'secret value');
      const context = commandContext(options);
      const written = await context.origin.putSecret(tenant, key, value, {
        overlapSeconds: options.overlap,
      });
      if (context.json) {
        printJson({ tenant, ...written });
        return;
      }
      printLine(
        `rotated secret ${tenant}/${key} to version ${written.version} at revision ` +
          `${written.revision}; the old value stays valid for ${options.overlap} s`,
      );
    });
}

interface WriteFlags {
  tenant?: string;
  file?: string;
  ifRevision?: number;
  overlap?: number;
  json?: boolean;
}

async function readAtAgent(
  url: string,
  tenant: string,
  key: string,
  options: SecretGetOptions,
): Promise<SecretMetadata & { value?: unknown }> {
  if (options.revision !== undefined) {
    throw new CliError('usage', '--agent reads the current secret only: drop --revision');
  }
  const secretToken = options.reveal ? agentSecretToken(options.secretToken) : undefined;
  return new AgentClient(url).getSecret(tenant, key, {
    secretToken,
    previous: options.previous,
  });
}

function agentSecretToken(flag: string | undefined): string {
  const token = flag ?? process.env.LCM_AGENT_SECRET_TOKEN;
  if (token) return token;
  const local = resolve(LOCAL_AGENT_SECRET_TOKEN_FILE);
  if (existsSync(local)) return readFileSync(local, 'utf8').trim();
  throw new CliError(
    'usage',
    "--reveal at an agent needs the agent's local secret token: --secret-token or " +
      'LCM_AGENT_SECRET_TOKEN',
  );
}

function describeSecret(tenant: string, secret: SecretMetadata): string {
  const lines = [
    `secret ${tenant}/${secret.key}: version ${secret.version} at revision ${secret.revision}`,
  ];
  if (secret.dekVersion !== undefined) lines.push(`  data key version ${secret.dekVersion}`);
  if (secret.previous) {
    const until = new Date(secret.previous.validUntil).toISOString();
    lines.push(`  previous version ${secret.previous.version} valid until ${until}`);
  }
  if (secret.rotatesAt)
    lines.push(`  next scheduled rotation ${new Date(secret.rotatesAt).toISOString()}`);
  lines.push('  (add --reveal to print the value)');
  return lines.join('\n');
}
