import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay on a fixed loopback port in front of a server that restarts on other ports: a client
 * keeps one address (and its upload URLs) across restarts, and the test sees how many bytes have
 * gone upstream, as they go, to act at a chosen point of a request body.
 */
export interface Relay {
  /** `http://127.0.0.1:<port>`: what clients talk to. */
  origin: string;
  /** Port of the server the relay forwards new connections to. */
  target: number;
  /** Bytes relayed from clients to the server so far (request lines, headers and bodies). */
  upstreamBytes: number;
  /**
   * When set, the relay stops there: bytes past this count of {@link upstreamBytes} are held back
   * (dropped) and their client paused, so that a request body is cut at a known point.
   */
  limit: number | null;
  /** Called after each piece of client data is relayed upstream. */
  onUpstream: (() => void) | undefined;
  close(): Promise<void>;
}

export async function startRelay(): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(relay.target, '127.0.0.1');
    sockets.add(client).add(upstream);
    // Either side gone (the server was killed, the client gave up): the other goes too, as it
    // would without a relay in between.
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (data: Buffer) => {
      const room = relay.limit === null ? data.length : relay.limit - relay.upstreamBytes;
      if (room < data.length) client.pause();
      if (room <= 0) return;
      const piece = room < data.length ? data.subarray(0, room) : data;
      relay.upstreamBytes += piece.length;
      if (!upstream.write(piece)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
      relay.onUpstream?.();
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay: Relay = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target: 0,
    upstreamBytes: 0,
    limit: null,
    onUpstream: undefined,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}
