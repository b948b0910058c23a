// The ceiling: a bare node:http server answering the same response bytes from memory.
// Reads the status line's headers and body from CEILING_RESPONSE (JSON), listens on
// CEILING_PORT, and prints `listening` when ready.
import { createServer } from 'node:http';

interface CeilingResponse {
  headers: Record<string, string>;
  bodyBase64: string;
}

const response = JSON.parse(process.env.CEILING_RESPONSE ?? '{}') as CeilingResponse;
const body = Buffer.from(response.bodyBase64 ?? '', 'base64');
const headers = { ...response.headers, 'content-length': String(body.length) };
const port = Number(process.env.CEILING_PORT);

const server = createServer((_request, reply) => {
  reply.writeHead(200, headers);
  reply.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
