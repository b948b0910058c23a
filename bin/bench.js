#!/usr/bin/env node
// `npm run bench`: the benchmarks of bench/ side by side with etcd, NATS KV and node:http.
// See bench/README.md. The driver is TypeScript, loaded through tsx like the `lcm` command.
import { register } from 'tsx/esm/api';

register();
await import('../bench/main.ts');
