// A diagnostic peer for P1: the bare framework the agent's read API is built on (Hono on
// @hono/node-server), answering the same headers and body from memory on one route. The gap
// between it and node:http is the framework's; between the agent and it, the agent's own.
// Reads CEILING_RESPONSE and CEILING_PORT like ceiling-server.ts; prints `listening`.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

interface CeilingResponse {
  headers: Record<string, string>;
  bodyBase64: string;
}

const response = JSON.parse(process.env.CEILING_RESPONSE ?? '{}') as CeilingResponse;
const body = new Uint8Array(Buffer.from(response.bodyBase64 ?? '', 'base64'));
const app = new Hono();
app.get('/v1/tenants/:tenant/entries/:key{.+}', (c) => c.body(body, 200, response.headers));

const server = serve(
  { fetch: app.fetch, port: Number(process.env.CEILING_PORT), hostname: '127.0.0.1' },
  () => process.stdout.write('listening\n'),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
