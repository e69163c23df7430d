import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay on a fixed loopback port in front of a server that restarts on other ports: a client
 * keeps one address (and its upload URLs) across restarts, and the test sees how many request-body
 * bytes have gone upstream, as they go, to act at an exact point of a body.
 */
export interface Relay {
  /** `http://127.0.0.1:<port>`: what clients talk to. */
  origin: string;
  /** Port of the server the relay forwards new connections to. */
  target: number;
  /** Request-body bytes relayed from clients to the server so far (request lines and headers not counted). */
  bodyBytes: number;
  /**
   * When set, the relay stops there: body bytes past this count of {@link bodyBytes} are held back
   * and their client paused, so that a request body is cut at an exact byte.
   */
  bodyLimit: number | null;
  /** Called after each piece of client data is relayed upstream. */
  onUpstream: (() => void) | undefined;
  close(): Promise<void>;
}

/** Where one connection's client-to-server stream is: in a request's head, or in its body. */
interface Framing {
  head: string;
  /** Body bytes still to come in the current request (from its `Content-Length`). */
  remaining: number;
}

/**
 * How many bytes of `data` to forward so that at most `bodyRoom` of them are body bytes, and how
 * many body bytes those are. Heads are read a byte at a time (a few hundred bytes a request),
 * bodies in bulk. The clients here send `Content-Length` bodies (tus-js-client does for buffers).
 */
function frame(framing: Framing, data: Buffer, bodyRoom: number): { forward: number; body: number } {
  let index = 0;
  let body = 0;
  while (index < data.length) {
    if (framing.remaining > 0) {
      const take = Math.min(framing.remaining, data.length - index, bodyRoom - body);
      if (take <= 0) break;
      index += take;
      body += take;
      framing.remaining -= take;
      continue;
    }
    framing.head += String.fromCharCode(data[index++]!);
    if (framing.head.endsWith('\r\n\r\n')) {
      framing.remaining = Number(/\r\ncontent-length:\s*(\d+)/i.exec(framing.head)?.[1] ?? 0);
      framing.head = '';
    }
  }
  return { forward: index, body };
}

export async function startRelay(): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(relay.target, '127.0.0.1');
    const framing: Framing = { head: '', remaining: 0 };
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
      const room = relay.bodyLimit === null ? Infinity : relay.bodyLimit - relay.bodyBytes;
      const { forward, body } = frame(framing, data, Math.max(room, 0));
      // Held back: the rest of this piece is dropped and the client paused (the test kills the
      // server next, or lifts the limit for a new connection).
      if (forward < data.length) client.pause();
      if (forward === 0) return;
      relay.bodyBytes += body;
      if (!upstream.write(forward < data.length ? data.subarray(0, forward) : data)) {
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
    bodyBytes: 0,
    bodyLimit: null,
    onUpstream: undefined,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}
