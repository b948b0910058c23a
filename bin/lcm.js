#!/usr/bin/env node
// The `lcm` command. The project is TypeScript run through tsx's loader, so there is no build
// step between a clone and a working command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
