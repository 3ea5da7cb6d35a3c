/**
 * One delivery's answer runs, regrouped by client so that each session's frames go out corked.
 *
 * The publisher hands the gateway a journal commit's events at once (hundreds at 100k/s), in
 * ring order, where the clients' commands interleave frame by frame:
 *
 *   events   [A A A B B B A A A B B B A A A]        A, B: two clients' runs
 *   before   send(A) send(B) send(A) send(B) send(A)            five writes, five segments
 *   now      cork(A){ send(A) send(A) send(A) }  cork(B){ send(B) send(B) }
 *                                                               one write per session
 *
 * uWS writes each send made outside its own callbacks at once (a system call, and on loopback
 * the client's wake-up with it); corked, a session's frames share one write while they fit
 * uWS's 16 KB cork buffer. Each session's runs keep their order; only different sessions' change
 * order, and they are different sockets.
 *
 * Bounded: at most `capacity` runs are held; the gateway sends what it holds when it is full and
 * goes on (a session's later runs then follow its earlier ones in the next round). Runs are
 * linked per client id through an open-addressing table of typed arrays: no allocation a
 * delivery.
 */
import { eventsPerFrameMax } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { EventFlag, EventWord } from '../protocol/event-layout.js';
import type { RecordBuffer } from '../stdx/records.js';

/** A session's socket as far as this needs it (uWS's WebSocket). */
export interface Corkable {
  cork(cb: () => void): unknown;
}

/** Sends one run: `count` events of `records` from slot `from` (More: cut inside a command). */
export type RunSend<W> = (
  ws: W,
  records: RecordBuffer,
  from: number,
  count: number,
  more: boolean,
) => void;

export class DeliveryRuns<W extends Corkable> {
  /** Each run's first ring slot, event count, More flag (0/1) and client id. */
  readonly from: Int32Array;
  readonly count: Int32Array;
  readonly more: Uint8Array;
  readonly client: Uint32Array;
  /** The client's next run (-1: its last), and 1 where a run is its client's first. */
  readonly next: Int32Array;
  private readonly head: Uint8Array;
  length = 0;
  /** client id -> its last run, valid where `round` is the current one. */
  private readonly keys: Uint32Array;
  private readonly last: Int32Array;
  private readonly round: Uint32Array;
  private current = 1;
  private readonly mask: number;
  /** The chain being sent (sendAll), read by `corked`, bound once: no closure a session. */
  private chainHead = -1;
  private chainWs: W | null = null;
  private chainRecords: RecordBuffer | null = null;
  private readonly corked = (): void => this.sendChain();

  constructor(
    readonly capacity: number,
    /** A client's open session (undefined: gone, its runs are dropped). */
    private readonly session: (client: number) => W | undefined,
    private readonly send: RunSend<W>,
  ) {
    assert(capacity > 0, 'delivery runs: room for a run');
    this.from = new Int32Array(capacity);
    this.count = new Int32Array(capacity);
    this.more = new Uint8Array(capacity);
    this.client = new Uint32Array(capacity);
    this.next = new Int32Array(capacity);
    this.head = new Uint8Array(capacity);
    // At most `capacity` clients a round: a table of twice that (a power of two) stays half full.
    let size = 1;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size);
    this.last = new Int32Array(size);
    this.round = new Uint32Array(size);
  }

  /**
   * Sends `count` durable events of `records` from ring slot `slot` to their sessions: each
   * client's contiguous run (at most eventsPerFrameMax events, More where a cut falls inside a
   * command) held, then all sent session by session (sendAll).
   */
  deliver(records: RecordBuffer, slot: number, count: number): void {
    const u32 = records.u32;
    for (let i = 0; i < count; i++) {
      const clientId = u32[(slot + i) * EventWord.size + EventWord.clientId];
      if (clientId === 0 || this.session(clientId) === undefined) continue;
      // Gather this client's run of events (commands of one client are mostly contiguous).
      let n = 1;
      while (
        i + n < count &&
        n < eventsPerFrameMax &&
        u32[(slot + i + n) * EventWord.size + EventWord.clientId] === clientId
      ) {
        n++;
      }
      // Cut inside a command (past eventsPerFrameMax): its events go on in the next frame.
      const more =
        i + n < count &&
        u32[(slot + i + n) * EventWord.size + EventWord.clientId] === clientId &&
        (u32[(slot + i + n) * EventWord.size + EventWord.flagsTifStp] & EventFlag.Head) === 0;
      if (this.full) this.sendAll(records);
      this.add(clientId, slot + i, n, more);
      i += n - 1;
    }
    this.sendAll(records);
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** Holds a run of `count` events from ring slot `from` for client `client` (not 0). */
  add(client: number, from: number, count: number, more: boolean): void {
    assert(this.length < this.capacity, 'delivery runs: add after full');
    assert(client !== 0, 'delivery runs: a session has a client id');
    const i = this.length++;
    this.from[i] = from;
    this.count[i] = count;
    this.more[i] = more ? 1 : 0;
    this.client[i] = client;
    this.next[i] = -1;
    let at = Math.imul(client, 0x9e3779b1) & this.mask;
    while (this.round[at] === this.current && this.keys[at] !== client) at = (at + 1) & this.mask;
    if (this.round[at] === this.current) {
      this.next[this.last[at]] = i;
      this.head[i] = 0;
    } else {
      this.round[at] = this.current;
      this.keys[at] = client;
      this.head[i] = 1;
    }
    this.last[at] = i;
  }

  /** True where run `i` is its client's first of this round: its chain starts there. */
  isHead(i: number): boolean {
    return this.head[i] === 1;
  }

  /**
   * Sends the held runs of `records` session by session, each session's corked, in order;
   * then forgets them. A session closed meanwhile (a send found it too slow) gets no more.
   */
  sendAll(records: RecordBuffer): void {
    this.chainRecords = records;
    for (let i = 0; i < this.length; i++) {
      if (this.head[i] !== 1) continue;
      const ws = this.session(this.client[i]);
      if (ws === undefined) continue;
      this.chainHead = i;
      this.chainWs = ws;
      ws.cork(this.corked);
    }
    this.chainWs = null;
    this.chainRecords = null;
    this.clear();
  }

  private sendChain(): void {
    const ws = this.chainWs;
    const records = this.chainRecords;
    assert(ws !== null && records !== null, 'delivery runs: a chain is being sent');
    for (let r = this.chainHead; r >= 0; r = this.next[r]) {
      if (this.session(this.client[r]) !== ws) return; // closed by an earlier send
      this.send(ws, records, this.from[r], this.count[r], this.more[r] === 1);
    }
  }

  /** Forgets the held runs (after they were sent). */
  clear(): void {
    this.length = 0;
    this.current = this.current === 0xffffffff ? 1 : this.current + 1;
    if (this.current === 1) this.round.fill(0);
  }
}
