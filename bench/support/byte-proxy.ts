import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { LOOPBACK } from './net.ts';

/**
 * A loopback TCP relay that counts the bytes flowing each way, so that the bytes a replica or
 * a watcher receives are measured on the wire (framing, headers and heartbeats included), not
 * taken from the system's own metrics.
 */
export class ByteProxy {
  /** Bytes from the server to the clients, over every connection so far. */
  toClient = 0;
  /** Bytes from the clients to the server. */
  toServer = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a relay to `targetPort` on loopback; returns it listening on a free port. */
  static async start(targetPort: number): Promise<ByteProxy> {
    const server = createServer();
    const proxy = new ByteProxy(server);
    server.on('connection', (client) => {
      client.setNoDelay(true);
      const upstream = createConnection({ host: LOOPBACK, port: targetPort });
      upstream.setNoDelay(true);
      proxy.#sockets.add(client);
      proxy.#sockets.add(upstream);
      client.on('data', (chunk: Buffer) => {
        proxy.toServer += chunk.length;
      });
      upstream.on('data', (chunk: Buffer) => {
        proxy.toClient += chunk.length;
      });
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        proxy.#sockets.delete(client);
        proxy.#sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    return proxy;
  }

  /** The port clients connect to. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Closes the relay and every connection through it. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
