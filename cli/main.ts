import { Command } from 'commander';
import { registerAgentCommand } from './commands/agent.ts';
import { registerOriginCommand } from './commands/origin.ts';

/** Builds the `lcm` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('lcm')
    .description('LLM-Config-Manager: configuration and secrets for LLM platforms')
    .showHelpAfterError();

  registerOriginCommand(program);
  registerAgentCommand(program);
  return program;
}

/** Runs `lcm` with the process arguments. */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
