import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { contentHash, type JsonValue } from '../../core/index.ts';
import { FrameCodec, type Message } from '../../protocol/index.ts';

/**
 * A test peer, not an origin: a WebSocket server on loopback that speaks just enough of the
 * protocol to send an agent whatever frames a test wants, well-formed or hostile, and records
 * what the agent sends back.
 */
export class FakeOrigin {
  readonly codec = new FrameCodec();
  /** Every message the agent sent, decoded, in order. */
  readonly received: Message[] = [];
  /** How many WebSocket connections the agent opened. */
  connections = 0;
  /** Called with every message the agent sends, after it is recorded: a test's scripted reply. */
  onReceive: ((message: Message) => void) | undefined;
  private socket: WebSocket | undefined;
  private readonly server: WebSocketServer;

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on('connection', (socket) => {
      this.connections++;
      this.socket = socket;
      socket.on('message', (data: Buffer) => {
        const message = this.codec.decode(data);
        this.received.push(message);
        this.onReceive?.(message);
      });
    });
  }

  /** Starts listening on an ephemeral loopback port. */
  static async start(): Promise<FakeOrigin> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    return new FakeOrigin(server);
  }

  /** `ws://127.0.0.1:PORT`. */
  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sends a well-formed message. */
  send(message: Message): void {
    this.sendBytes(this.codec.encode(message));
  }

  /** Sends raw bytes as one binary frame. */
  sendBytes(bytes: Uint8Array): void {
    if (this.socket?.readyState !== WebSocket.OPEN) throw new Error('no agent connected');
    this.socket.send(bytes);
  }

  /** Waits until the agent has sent a message matching `predicate`. */
  async waitFor(predicate: (message: Message) => boolean, timeoutMs = 5_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.received.find(predicate);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the agent did not send the expected message');
  }

  /** Closes the server and any connection. */
  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A snapshot entry with its real content hash. */
export async function snapshotEntry(key: string, value: JsonValue, revision: number) {
  return { key, kind: 'config' as const, value, revision, hash: await contentHash(value) };
}
