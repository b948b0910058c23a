import type { Command } from 'commander';

/** Registers `lcm origin`, which runs an origin server. */
export function registerOriginCommand(program: Command): void {
  program
    .command('origin')
    .description('run an origin: the authoritative store and its writer API')
    .action(() => {
      throw new Error('lcm origin is not built yet');
    });
}
