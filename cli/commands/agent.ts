import type { Command } from 'commander';

/** Registers `lcm agent`, which runs an edge agent. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run an edge agent: a local replica answering reads')
    .action(() => {
      throw new Error('lcm agent is not built yet');
    });
}
