import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One direction of a proxied connection: what the client sends (`up`) or what the server answers (`down`). */
export type Direction = 'up' | 'down';

/** What the proxy does to one direction of one connection. Every field is optional: none is a plain pass-through. */
export interface FaultPlan {
  /** Cut the whole connection (both sockets destroyed) once this many bytes went this way. */
  cutAfter?: number;
  /** Stop forwarding once this many bytes went this way... */
  stallAfter?: number;
  /** ...for this long, then go on (`Infinity`: until one side closes, or the proxy cuts it). */
  stallMs?: number;
  /** Forward at most this many bytes a second. */
  bytesPerSecond?: number;
}

/**
 * The faults of one connection, per direction; decided on the connection's first bytes from the
 * client (HTTP clients speak first), so that a plan can depend on the request they open.
 */
export type ConnectionPlan = Partial<Record<Direction, FaultPlan>>;

/** What went through the proxy so far. */
export interface ProxyStats {
  connections: number;
  /** Connections accepted and reset at once, while refusing. */
  refused: number;
  /** Connections the proxy cut after `cutAfter` bytes. */
  cut: number;
  /** Of those, the ones cut while the client was sending (a request's head or body), not the answer. */
  cutUp: number;
  /** Connections that reached their `stallAfter`. */
  stalled: number;
  /** Connections forwarded at a limited rate. */
  throttled: number;
  /** Bytes forwarded client to server, and server to client. */
  bytesUp: number;
  bytesDown: number;
}

const PASS: ConnectionPlan = {};

/**
 * A TCP proxy on loopback that a test controls: each accepted connection is forwarded to `target`
 * under the plan that `planFor(index)` returns (cut, stall, throttle, per direction), and
 * connections can be refused for a while. Bytes are forwarded as they come, with backpressure, so
 * what the endpoints see is a real network misbehaving, not a mock.
 */
export class TcpProxy {
  readonly stats: ProxyStats = { connections: 0, refused: 0, cut: 0, cutUp: 0, stalled: 0, throttled: 0, bytesUp: 0, bytesDown: 0 };
  /**
   * Decides the faults of the n-th connection (0-based), given the first bytes its client sent
   * (`head`, latin1: the request line and headers, or what of them came in one piece); pass-through by default.
   */
  planFor: (index: number, head: string) => ConnectionPlan = () => PASS;
  private refusingUntil = 0;
  private readonly open = new Set<Socket>();
  /** Per open connection: whether it was told to stall now (see stallOpen). */
  private readonly live = new Set<{ stallNow: boolean; counted?: boolean }>();

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts a proxy on a free loopback port in front of `target` (`http://host:port` or `{ host, port }`). */
  static async start(target: string | { host: string; port: number }): Promise<TcpProxy> {
    const to = typeof target === 'string' ? { host: new URL(target).hostname, port: Number(new URL(target).port) } : target;
    const server = createServer({ noDelay: true });
    const proxy = new TcpProxy(server, to);
    server.on('connection', (socket) => proxy.accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `url` with its origin replaced by the proxy's: the same resource, reached through the proxy. */
  via(url: string): string {
    const parsed = new URL(url);
    return `${this.origin}${parsed.pathname}${parsed.search}`;
  }

  /** Resets every new connection for `ms` (a server that is down); connections already open go on. */
  refuseFor(ms: number): void {
    this.refusingUntil = Date.now() + ms;
  }

  /**
   * Stops forwarding, both ways, on every connection open now, until it closes: a network path that
   * went silent (a dead peer, a black hole) under the connections in use. Later connections pass.
   */
  stallOpen(): void {
    for (const connection of this.live) connection.stallNow = true;
  }

  /** Cuts every open connection at once. */
  cutAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  /** Connections currently open through the proxy (each counted once, not per socket). */
  get openConnections(): number {
    return this.open.size / 2;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const index = this.stats.connections++;
    if (Date.now() < this.refusingUntil) {
      this.stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const server = createConnection({ ...this.target, noDelay: true });
    const sockets = [client, server];
    const connection: { stallNow: boolean; counted?: boolean } = { stallNow: false };
    this.live.add(connection);
    let closed = false;
    const closeBoth = () => {
      if (closed) return;
      closed = true;
      this.live.delete(connection);
      for (const socket of sockets) {
        socket.destroy();
        this.open.delete(socket);
      }
    };
    for (const socket of sockets) {
      this.open.add(socket);
      socket.on('error', closeBoth);
      socket.on('close', closeBoth);
    }
    // Decided once, on the client's first bytes; the server's side waits for it (it speaks only when asked).
    let decide!: (plan: ConnectionPlan) => void;
    const decided = new Promise<ConnectionPlan>((resolve) => (decide = resolve));
    const planOn = (first: Buffer): ConnectionPlan => {
      const plan = this.planFor(index, first.toString('latin1'));
      if (plan.up?.bytesPerSecond || plan.down?.bytesPerSecond) this.stats.throttled++;
      decide(plan);
      return plan;
    };
    const ended = new Promise<void>((resolve) => client.once('close', () => resolve()));
    void this.forward(client, server, async (first) => planOn(first).up ?? {}, 'up', ended, closeBoth, connection);
    void this.forward(server, client, async () => (await Promise.race([decided, ended.then(() => PASS)])).down ?? {}, 'down', ended, closeBoth, connection);
  }

  /** Moves bytes `from` → `to` under `plan`, until either side closes or the plan cuts. */
  private async forward(
    from: Socket,
    to: Socket,
    planOf: (first: Buffer) => Promise<FaultPlan>,
    direction: Direction,
    ended: Promise<void>,
    cut: () => void,
    connection: { stallNow: boolean; counted?: boolean },
  ): Promise<void> {
    let plan: FaultPlan | undefined;
    let sent = 0;
    let stalled = false;
    const count = (bytes: number) => {
      sent += bytes;
      if (direction === 'up') this.stats.bytesUp += bytes;
      else this.stats.bytesDown += bytes;
    };
    try {
      for await (const data of from as AsyncIterable<Buffer>) {
        let chunk = data;
        plan ??= await planOf(chunk);
        if (connection.stallNow) {
          if (!connection.counted) this.stats.stalled++;
          connection.counted = true;
          await ended;
          return;
        }
        while (chunk.length > 0) {
          // The next boundary where something happens: the cut, the stall, or a throttle slice.
          const limits = [chunk.length];
          if (plan.cutAfter !== undefined) limits.push(plan.cutAfter - sent);
          if (plan.stallAfter !== undefined && !stalled) limits.push(plan.stallAfter - sent);
          if (plan.bytesPerSecond) limits.push(Math.max(1, Math.floor(plan.bytesPerSecond / 20)));
          const take = Math.max(0, Math.min(...limits));
          if (take > 0) {
            const piece = chunk.subarray(0, take);
            chunk = chunk.subarray(take);
            count(take);
            if (!to.write(piece)) await Promise.race([once(to, 'drain'), ended]);
            if (plan.bytesPerSecond) await sleep((take / plan.bytesPerSecond) * 1000);
          }
          if (plan.cutAfter !== undefined && sent >= plan.cutAfter) {
            this.stats.cut++;
            if (direction === 'up') this.stats.cutUp++;
            cut();
            return;
          }
          if (plan.stallAfter !== undefined && !stalled && sent >= plan.stallAfter) {
            stalled = true;
            this.stats.stalled++;
            const ms = plan.stallMs ?? Infinity;
            await (Number.isFinite(ms) ? Promise.race([sleep(ms), ended]) : ended);
          }
          if (to.destroyed) return;
        }
      }
      // A half-close is forwarded as one: HTTP clients may end their side and wait for the answer.
      if (!to.destroyed) to.end();
    } catch {
      cut();
    }
  }
}
