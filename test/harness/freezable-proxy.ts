/**
 * A TCP proxy that can go silent without closing anything: what a client sees of a member
 * that hangs (a stopped process) or sits across a network partition. Frozen, it forwards
 * nothing either way and opens no new upstream connections; every socket stays open. It can
 * also hold back what the server sends (frames on their way while the client goes on), and
 * then let it through, in order.
 *
 * Throttled, it reads what the node sends one chunk (at most 64 KB) per `throttleMs`: what the
 * node sees of a client that reads its answers slowly (one starved of CPU), while the client's
 * commands still go through at once.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import assert from 'node:assert/strict';

export class FreezableProxy {
  frozen = false;
  /** Ms between two reads of what the node sends (0: read as it comes). */
  throttleMs = 0;
  private readonly sockets = new Set<Socket>();
  /** What the server sent while held (holdDownstream), with the client it goes to; or null. */
  private held: { client: Socket; data: Buffer }[] | null = null;
  /** Bytes held since holdDownstream. */
  heldBytes = 0;
  private readonly upstreams = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** A proxy to `targetPort`, on `port` (0: any free one; a given one: a proxy back again). */
  static async start(targetPort: number, port = 0): Promise<FreezableProxy> {
    let proxy: FreezableProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    proxy = new FreezableProxy(server, address.port);
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  /** Holds what the server sends from now on; the clients' frames still go through. */
  holdDownstream(): void {
    this.held = [];
    this.heldBytes = 0;
  }

  /** Lets through, in order, what was held, and holds no more. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { client, data } of held) client.write(data);
  }

  /** Reads what the node sends as it comes again. */
  unthrottle(): void {
    this.throttleMs = 0;
    if (!this.frozen) for (const s of this.upstreams) s.resume();
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private accept(client: Socket, targetPort: number): void {
    this.sockets.add(client);
    client.on('error', () => {});
    if (this.frozen) {
      client.pause(); // accepted by the kernel, never answered
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    this.sockets.add(upstream);
    this.upstreams.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('data', (d) => this.frozen || upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (this.frozen) return;
      this.toClient(client, d);
      if (this.throttleMs === 0) return;
      upstream.pause();
      setTimeout(() => this.frozen || upstream.resume(), this.throttleMs);
    });
    client.on('close', () => this.frozen || upstream.destroy());
    // Ended, not destroyed: what was read from the node goes first (the close frame of a node
    // that closed the session: destroyed, the client saw a drop and reconnected).
    upstream.on('close', () => this.frozen || client.end());
  }

  private toClient(client: Socket, data: Buffer): void {
    if (this.held === null) {
      client.write(data);
      return;
    }
    this.held.push({ client, data });
    this.heldBytes += data.byteLength;
  }
}
