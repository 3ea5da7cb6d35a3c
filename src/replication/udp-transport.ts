/**
 * Replication over UDP (`node:dgram`), with flow control and repair, and with fault injection
 * built in. Measured on loopback here: sent flat out, UDP loses about 30% of datagrams; paced
 * at 200k datagrams/s, 0.1%. So every datagram goes through a paced queue, and the receiver
 * repairs loss with NAKs, as Aeron does.
 *
 *   message (encodeMessage) ──split──► fragments of ≤ payloadBytes (udpPayloadBytesDefault
 *   unless set: setPayloadBytes), each a datagram (its 40-byte header: datagram.ts), of type
 *   1 fragment: a chunk of the message;
 *   2 NAK, a message of its own (its id is the NAK's): the start and id (f64, u32) of the
 *   message it repairs, then u16 indices of the fragments the receiver lacks (`index` of them);
 *   3 Renew, a message of its own: begin a run above a start named (run-renewal.ts)
 *
 * A datagram received is read in this order, each step dropping it before the next:
 *   1. its CRC-32 (datagram.ts), before any field is read: one that fails is damaged, counted,
 *      and repaired as a lost one (NAK, or consensus's resend), so no damaged term, position
 *      or NAK range ever reaches consensus;
 *   2. its source: every member sends from the socket bound to its replication port, and a
 *      datagram that names a member from another address or port is refused (peer-addresses.ts,
 *      refusals.ts): on one host, no other process can send from there;
 *   3. its version (other-versions.ts), then its MAC under the cluster's secret
 *      (datagram-mac.ts): one that does not match is refused, so that only a holder of the
 *      secret speaks as a member, wherever it sends from;
 *   4. its sender's start and message id (replay-window.ts): a message is taken once, and none
 *      of a run of the sender's before the one heard since, nor of one remembered from before
 *      this member's restart (their Renews heeded, not taken), so that a datagram recorded and
 *      sent again (its MAC is good) does nothing; its sender is asked to renew (run-renewal.ts).
 *
 * The receiver reassembles. Fragments of a message go out in order, and loopback or a LAN does not
 * reorder, so a fragment missing before one that arrived is lost: it is NAKed after
 * `udpNakDelayMs`. Fragments missing after the last that arrived are most likely still queued at a
 * paced (or descheduled) sender: they are NAKed only when the message has made no progress for
 * `udpNakTailMs`. A message still making none is NAKed again after waits that double, each peer's
 * NAKs capped per window (nak-pacing.ts). The sender resends NAKed fragments from the messages it
 * retains (bounded by bytes), except those still in its queue or resent within
 * `udpResendLingerMs`. (NAKing every missing fragment after 2 ms resent fragments that were only
 * waiting in the queue; on an oversubscribed machine 89% of datagrams became resends.) A message
 * that makes no progress for `udpReassemblyTimeoutMs` is dropped: consensus resends what was not
 * acknowledged with its next heartbeat. (Timed from its first fragment, a message still being
 * repaired on a loaded machine was dropped, its last fragments lost with it, and its resend could
 * take as long again.) Datagrams from unknown senders, malformed ones and those past every bound
 * are dropped and counted, never thrown.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  clusterMembersMax,
  udpBurstMax,
  udpDatagramsPerMsMax,
  udpNakTailMs,
  udpPayloadBytesDefault,
  udpPayloadBytesMax,
  udpReassemblyMax,
  udpReassemblyTimeoutMs,
  udpReplayWindowIds,
  udpRetainedBytesMax,
  udpSendQueueMax,
} from '../constants.js';
import { Rng } from '../stdx/rng.js';
import { assert } from '../stdx/assert.js';
import { newResolver, resolverLookup, type HostLookup } from './host-lookup.js';
import { decodeMessage, encodeMessage, messageVersion, replicationVersion } from './codec.js';
import type { Message } from './messages.js';
import {
  authentic,
  check,
  Check,
  checkedHeaderBytes,
  datagramHeaderBytes,
  datagramMac,
  datagramMagic,
  datagramBytesDefault,
  DatagramType,
  fragments,
  seal,
  startOf,
  transportVersion,
  writeHeader,
} from './datagram.js';
import { Freshness, nextStart, ReplayWindows } from './replay-window.js';
import { renewBytes, RenewAsks, renewFloor, writeRenew } from './run-renewal.js';
import type { DatagramMac } from './datagram-mac.js';
import { type OtherVersion, OtherVersions, type VersionLayer } from './other-versions.js';
import { PeerAddresses, Source, type PeerAddress } from './peer-addresses.js';
import { PeerProbes } from './peer-probes.js';
import { type RefusalReason, Refusals } from './refusals.js';
import { noFaultPlan, type FaultPlan } from './fault-plan.js';
import { lingering, NakPacer, progressed } from './nak-pacing.js';
import { newTransportStats, type TransportStats } from './transport-stats.js';
import type { StageHistogram } from './stage-histogram.js';
import {
  sharedFor,
  type Datagram,
  type Partial,
  type Retained,
  type SharedAppend,
} from './transport-queues.js';

export type { PeerAddress } from './peer-addresses.js';
export { noFaultPlan, type FaultPlan } from './fault-plan.js';
export type { TransportStats } from './transport-stats.js';

/** A NAK's body first names the message it repairs: its start (f64) and id (u32). */
const nakTargetBytes = 12;
/** Mixed into the fault plan's seed for the NAK jitter's own stream (nak-pacing.ts). */
const jitterSeedMix = 0x5bd1_e995;

export class UdpTransport {
  /** Told in the log at a bounded rate (onRefused); counted in `stats.refused`. */
  private readonly refusals = new Refusals(
    (line) => this.onRefused(line),
    (id) => this.peers.shown(id),
  );
  readonly stats: TransportStats = newTransportStats(this.refusals.total);
  faults: FaultPlan;
  /**
   * The one socket, bound to this member's replication port: every datagram is sent from it,
   * so that its source is the address and port the cluster file gives this member, the only
   * one the others take this member's datagrams from (peer-addresses.ts).
   */
  private readonly socket: Socket;
  private readonly peers: PeerAddresses;
  /** Signs every datagram sent and checks every one received (the cluster's secret). */
  private readonly mac: DatagramMac;
  private readonly rng: Rng;
  /** When incomplete messages are NAKed (nak-pacing.ts), its jitter seeded apart from faults. */
  private readonly naks: NakPacer;
  /**
   * This run's start (its datagrams carry it), and the last message id it gave: ids go up from
   * 1 within a start, and a receiver takes each (start, id) once (replay-window.ts).
   */
  private runStart: number;
  private nextId = 0;
  /** What each member has sent that this one took (replay-window.ts). */
  private readonly windows = new ReplayWindows(clusterMembersMax, udpReplayWindowIds);
  private readonly renewAsks = new RenewAsks();
  /**
   * Two paced queues: control (heartbeats, statuses, votes, NAK answers' requests) goes before
   * bulk (entries), so that a long backlog of entries never delays a heartbeat into an
   * election. The bulk queue is read from `head` (shift() on a long array costs O(n)).
   */
  private readonly control: Datagram[] = [];
  private queue: Datagram[] = [];
  private head = 0;
  private held: Datagram | null = null;
  private readonly retained = new Map<number, Retained>();
  private shared: SharedAppend | null = null;
  private retainedBytes = 0;
  private readonly partials = new Map<number, Partial>();
  /** When partials were last checked (checkPartials), to tell this process's stalls. */
  private checkedAt = 0;
  /**
   * The 1 ms pacing and NAK timer runs only while there is something to pace or reassemble
   * (wakeTimer): on an idle cluster it fired a thousand times a second in every member, about
   * a sixth of the ~9% of a core each member used doing nothing.
   */
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Peers' names to addresses (host-lookup.ts); cancelled on close. */
  private readonly resolver = newResolver();
  private readonly lookup: HostLookup;
  private bound = false;
  /** Pacing: when the queue was last pumped, and datagrams earned but not yet sent. */
  private pumpedAt = performance.now();
  private credit = 0;
  /** A pump is queued for the end of the current job (pumpSoon). */
  private pumpQueued = false;
  /** Where each datagram's wait in a queue is timed (src/pipeline/stage-times.ts), if asked. */
  queueWait: { control: StageHistogram; bulk: StageHistogram } | null = null;
  private readonly probes: PeerProbes;
  private closed = false;

  /** Receives each whole, well-formed message. */
  onMessage: (message: Message) => void;
  /** Told of a member's new start before any of it is taken: stored (replica-store.ts). */
  onPeerStart: (id: number, start: number) => void = () => {};
  /** Told when member `by` asked this one to renew its run, which it did (run-renewal.ts). */
  onRenewed: (by: number, was: number, start: number) => void = () => {};
  /** Told when a probe finds a peer's port closed: its process is gone. */
  onUnreachable: (id: number) => void = () => {};
  /** Told of refused datagrams, at most once per refusedLogMs (refusals.ts). */
  onRefused: (line: string) => void = () => {};
  /**
   * Told once per peer and change of version when a member speaks another transport or replication
   * version: members of different versions cannot replicate to each other, and without this
   * a mixed cluster (a member left out of an upgrade) would only show as elections that fail.
   */
  onOtherVersion: (id: number, what: string) => void = () => {};
  private readonly versions = new OtherVersions((id, what) => this.onOtherVersion(id, what));
  /** Members heard on another version and not on this one since (/health, /metrics). */
  otherVersions(): OtherVersion[] {
    return this.versions.heard();
  }
  port = -1;
  /** The largest chunk this member sends in a datagram (setPayloadBytes). */
  private payloadBytes = udpPayloadBytesDefault;

  /**
   * `secret`: the cluster's replication secret (secretBytes), the same on every member.
   * `start`: above every earlier run's of member `id` (a member's is stored: replica-store.ts).
   */
  constructor(
    readonly id: number,
    peers: readonly PeerAddress[],
    onMessage: (message: Message) => void,
    secret: Uint8Array,
    faults: FaultPlan = noFaultPlan(),
    lookup?: HostLookup,
    start = nextStart(0),
  ) {
    this.runStart = start;
    this.mac = datagramMac(secret);
    this.lookup = lookup ?? resolverLookup(this.resolver);
    this.onMessage = onMessage;
    this.peers = new PeerAddresses(this.lookup, {
      failed: () => this.stats.connectFailures++,
      moved: (id) => this.peerMoved(id),
    });
    this.probes = new PeerProbes(
      this.lookup,
      (id) => this.onUnreachable(id),
      () => this.stats.connectFailures++,
    );
    this.setPeers(peers);
    this.faults = faults;
    this.rng = new Rng(faults.seed);
    this.naks = new NakPacer(new Rng(faults.seed ^ jitterSeedMix));
    const buffers = { recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 };
    this.socket = createSocket({ type: 'udp4', lookup: this.lookup, ...buffers });
    this.socket.on('message', (datagram, from) => this.onDatagram(datagram, from));
    this.socket.on('error', () => {}); // ICMP unreachable and the like: loss, repaired above
  }

  /** Binds; resolves with the port. */
  bind(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        this.bound = true;
        this.port = this.socket.address().port;
        resolve(this.port);
      });
    });
  }

  /** The other members' addresses (this node's own entry is skipped). */
  setPeers(peers: readonly PeerAddress[]): void {
    for (const p of peers) assert(p.id >= 1 && p.id <= clusterMembersMax, 'udp: a member id');
    this.peers.set(peers.filter((p) => p.id !== this.id));
    this.probes.clear(); // connected again on the next probe
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.resolver.cancel();
    this.peers.close();
    this.socket.close();
    this.probes.close();
  }

  /** A peer's name resolves elsewhere now: its probe socket is connected again on next use. */
  private peerMoved(id: number): void {
    this.stats.peersMoved++;
    this.probes.forget(id);
  }

  /**
   * Sends an empty datagram (receivers drop it) to a peer from a socket connected to it, so
   * that a peer whose process died is known at once (peer-probes.ts). Links blocked by faults
   * block probes too.
   */
  probe(to: number): void {
    const peer = this.peers.get(to);
    if (peer === undefined || this.faults.blockTo.has(to) || !this.open()) return;
    this.probes.probe(peer);
  }

  /**
   * A new start above `floor` for a run whose message ids ran out; a member's stores it first
   * (ReplicaStore.nextTransportStart), as it stored its first, so that its next run, with the
   * clock set back, cannot start below it. Not stored, a restart behind the clock began below
   * the start the others had heard last, and they refused it as stale.
   */
  renewStart: (floor: number) => number = nextStart;

  /** This run's start, which its datagrams carry (a new one once its message ids ran out). */
  get start(): number {
    return this.runStart;
  }

  /**
   * The other members' newest starts heard before this member restarted (stored): none of
   * those runs is taken, and their senders are asked to renew (replay-window.ts, remember).
   */
  rememberStarts(starts: ReadonlyMap<number, number>): void {
    for (const [id, start] of starts) if (id !== this.id) this.windows.remember(id, start);
  }

  /**
   * Sends chunks of up to `bytes` (udpPayloadBytesDefault to ...Max) a datagram; before any
   * send. Fewer sends, CRCs and MACs, but IP fragments on a path of smaller MTU (one lost loses
   * the datagram): for loopback and jumbo frames (constants.ts). Members take any size.
   */
  setPayloadBytes(bytes: number): void {
    assert(Number.isInteger(bytes), 'udp: a whole number of payload bytes');
    assert(bytes >= udpPayloadBytesDefault, 'udp: a payload size, the default at least');
    assert(bytes <= udpPayloadBytesMax, 'udp: a payload size within the max');
    assert(this.nextId === 0, 'udp: the payload size set before sending');
    this.payloadBytes = bytes;
  }

  /** Messages kept to answer NAKs (retain). */
  retainedMessages(): number {
    return this.retained.size;
  }

  /** Queues `message` for peer `to` (dropped when the queue is full: consensus resends). */
  send(to: number, message: Message): void {
    const peer = this.peers.get(to);
    if (peer === undefined) return;
    const reuse = sharedFor(this.shared, to, message);
    const bytes = reuse?.bytes ?? encodeMessage(message);
    const id = reuse?.id ?? this.newId();
    const count = Math.ceil(bytes.byteLength / this.payloadBytes);
    if (count > 0xffff || this.queued() + count > udpSendQueueMax) {
      this.stats.sendQueueFull++;
      return;
    }
    const bulk = message.kind === 'append' && message.entries.length > 0;
    const datagrams = reuse?.datagrams ?? this.fragments(id, bytes);
    const retained = this.retain(messageKey(to, id), datagrams, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      this.queueDatagram(peer, datagrams[i], retained, i, bulk, null);
    }
    if (reuse !== null) {
      reuse.to.add(to);
      this.stats.appendsShared++;
    } else if (message.kind === 'append' && bulk) {
      this.shared = { message, bytes, id, datagrams, to: new Set([to]) };
    }
    this.pumpSoon();
  }

  /**
   * The next message id. Past the last u32 (4 billion messages: a day or more of a busy
   * primary) the run takes a new start and numbers from 1 again; what it kept for NAKs is of
   * the old start, which receivers now drop.
   */
  private newId(): number {
    if (this.nextId === 0xffff_ffff) this.renewRun(this.runStart);
    return ++this.nextId;
  }

  /** Begins a run above `floor`; what was kept for NAKs is of the old start, dropped now. */
  private renewRun(floor: number): void {
    this.runStart = this.renewStart(floor);
    this.nextId = 0;
    this.shared = null;
    this.retained.clear();
    this.retainedBytes = 0;
    this.stats.runsRenewed++;
  }

  /**
   * Sends what is queued once the current job ends, within the pacing budget (the rest goes at
   * the next timer, as before). Waiting for the 1 ms timer cost each hop a millisecond or more
   * (a loaded machine fires it late): a commit of one command on an idle 3-member cluster took
   * ~11 ms, of which 1.3-2.5 ms was an append waiting here and more its status coming back.
   */
  private pumpSoon(): void {
    if (this.pumpQueued || !this.open()) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      if (!this.closed) this.pump(performance.now());
    });
  }

  private queued(): number {
    return this.queue.length - this.head + this.control.length;
  }

  private queueDatagram(
    peer: PeerAddress,
    datagram: Buffer,
    retained: Retained,
    i: number,
    bulk: boolean,
    resentAt: Float64Array | null,
  ): void {
    const waiting = retained.waiting;
    waiting[i] = 1;
    const queuedAt = this.queueWait === null ? 0 : performance.now(); // timed only when asked
    const d = { to: peer, bytes: datagram, waiting, index: i, queuedAt, resentAt };
    (bulk ? this.queue : this.control).push(d);
  }

  /**
   * Keeps sent messages for NAKs, the oldest dropped first past udpRetainedBytesMax. A message
   * of one datagram is not kept: a receiver NAKs only the missing fragments of a message it has
   * part of, so it is never asked for again. Kept, a standby's statuses (tens of bytes each, a
   * few hundred with their objects) grew its main thread's live heap by ~20 bytes a command,
   * 9 to 87 MB in 150 s of load, on the way to 32 MB of payload (~600,000 statuses).
   */
  private retain(key: number, datagrams: readonly Buffer[], bytes: number): Retained {
    const waiting = new Uint8Array(datagrams.length);
    const retained: Retained = { datagrams, bytes, waiting, resentAt: null };
    if (datagrams.length === 1) return retained;
    this.retained.set(key, retained);
    this.retainedBytes += bytes;
    for (const [k, r] of this.retained) {
      if (this.retainedBytes <= udpRetainedBytesMax) break;
      this.retained.delete(k);
      this.retainedBytes -= r.bytes;
    }
    return retained;
  }

  /** Message `id` (`bytes`) as its sealed datagrams of this member's chunk size. */
  private fragments(id: number, bytes: Buffer): Buffer[] {
    return fragments(bytes, id, this.id, this.start, this.payloadBytes, this.mac);
  }

  /** Bound and not closed: sending and timers are allowed. */
  private open(): boolean {
    return this.bound && !this.closed;
  }

  private wakeTimer(): void {
    if (this.timer !== null || !this.open()) return;
    this.checkedAt = performance.now(); // the time the timer was off is no stall
    this.timer = setInterval(() => this.onTimer(), 1);
  }

  private onTimer(): void {
    const now = performance.now();
    this.pump(now);
    this.checkPartials(now);
    if (this.queued() === 0 && this.partials.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /**
   * The pacing: udpDatagramsPerMsMax for each millisecond since the last pump, at most
   * udpBurstMax at once. (A fixed budget per timer call sent far less when a loaded machine
   * called the 1 ms timer every few ms: the queue grew until messages were dropped.)
   */
  private pump(now: number): void {
    const earned = (now - this.pumpedAt) * udpDatagramsPerMsMax;
    this.pumpedAt = now;
    const inDebt = this.credit < 0;
    let budget = Math.min(udpBurstMax, this.credit + earned);
    if (this.queueWait !== null) this.timeWaits(now, this.queueWait, budget);
    for (const d of this.control) this.transmit(d);
    budget -= this.control.length;
    this.control.length = 0;
    let sent = false;
    while (budget >= 1 && this.head < this.queue.length) {
      const d = this.queue[this.head++];
      this.transmit(d);
      budget -= pacedAs(d.bytes.byteLength);
      sent = true;
    }
    // A datagram above the default's size overdraws: paid by the next pumps, queue empty or not.
    if (budget < 0 && (sent || inDebt)) this.credit = Math.max(-udpBurstMax, budget);
    else this.credit = this.head < this.queue.length ? Math.max(0, budget) : 0;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queued() > 0) this.wakeTimer(); // the rest goes as the pacing earns it
  }

  /** Times the waits of the datagrams this pump sends (control, then up to `budget` bulk). */
  private timeWaits(now: number, w: NonNullable<UdpTransport['queueWait']>, budget: number): void {
    for (const d of this.control) w.control.record((now - d.queuedAt) * 1000);
    const end = Math.min(this.queue.length, this.head + Math.floor(budget - this.control.length));
    for (let i = this.head; i < end; i++) w.bulk.record((now - this.queue[i].queuedAt) * 1000);
  }

  /** Sends a datagram through the fault plan. */
  private transmit(d: Datagram): void {
    if (d.waiting !== null) d.waiting[d.index] = 0;
    if (d.resentAt !== null) d.resentAt[d.index] = performance.now(); // its linger starts
    const f = this.faults;
    if (f.blockTo.has(d.to.id) || this.rng.chance(f.drop)) {
      this.stats.faultsInjected++;
      return;
    }
    if (this.held === null && this.rng.chance(f.reorder)) {
      this.held = d;
      this.stats.faultsInjected++;
      return;
    }
    const copies = this.rng.chance(f.duplicate) ? 2 : 1;
    if (f.corrupt > 0 && this.rng.chance(f.corrupt)) d = this.corrupted(d);
    for (let c = 0; c < copies; c++) this.emit(d);
    if (this.held !== null) {
      const held = this.held;
      this.held = null;
      this.emit(held);
    }
  }

  /** A copy of `d` with one bit flipped (the queued bytes may be shared, and are resent). */
  private corrupted(d: Datagram): Datagram {
    this.stats.faultsInjected++;
    const bytes = Buffer.from(d.bytes);
    const bit = this.faults.corruptBit ?? this.rng.int(bytes.byteLength * 8);
    if (bit < bytes.byteLength * 8) bytes[bit >> 3] ^= 1 << (bit & 7);
    return { ...d, bytes };
  }

  private emit(d: Datagram): void {
    const delay = this.faults.delayMsMax > 0 ? this.rng.next() * this.faults.delayMsMax : 0;
    const go = (): void => {
      // Delayed past close(): sending threw ERR_SOCKET_DGRAM_NOT_RUNNING from the timer (and
      // the sender looked up made a socket that nothing would close).
      if (this.closed) return;
      this.stats.datagramsSent++;
      // From the bound socket (its port is how peers know this member), to the peer's IP: the
      // lookup node runs per send returns at once for an IP (host-lookup.ts). Connected
      // sockets, one per peer, sent from ports of their own, which no peer could check.
      const address = this.peers.addressOf(d.to.id);
      if (address === null) this.stats.unconnectedDrops++;
      else this.socket.send(d.bytes, d.to.port, address);
    };
    if (delay > 0) setTimeout(go, delay);
    else go();
  }

  private onDatagram(datagram: Buffer, source: RemoteInfo): void {
    this.stats.datagramsReceived++;
    if (datagram.byteLength === 0) {
      this.stats.probesReceived++;
      return;
    }
    if (datagram.byteLength < checkedHeaderBytes) return this.dropped();
    const checked = check(datagram);
    if (checked === Check.Corrupt) {
      this.stats.checksumFailures++;
      return this.dropped();
    }
    if (datagram.readUInt8(0) !== datagramMagic) return this.dropped();
    const from = datagram.readUInt8(3);
    if (!this.fromPeer(from, source)) return this.dropped();
    const theirs = datagram.readUInt8(1);
    if (theirs !== transportVersion) return this.otherVersion(from, 'transport', theirs);
    if (checked !== Check.Intact) return this.dropped(); // a version-1 header saying ours
    if (!authentic(datagram, this.mac)) return this.forged(from, source);
    this.versions.ours(from, 'transport');
    if (this.faults.blockFrom.has(from)) {
      this.stats.faultsInjected++;
      return;
    }
    const start = startOf(datagram);
    const type = datagram.readUInt8(2);
    const fresh = this.windows.check(from, start, datagram.readUInt32LE(4));
    const stale = fresh === Freshness.Stale;
    const unvouched = stale || fresh === Freshness.Unproven;
    if (unvouched) this.askRenew(from, start);
    if (unvouched && type === DatagramType.Renew) this.onRenew(datagram, from, false);
    if (stale) return this.refused('stale', from, source);
    if (fresh === Freshness.Heard || fresh === Freshness.Old || unvouched) {
      this.stats.duplicates++;
      return;
    }
    if (fresh === Freshness.Restarted) {
      this.onPeerStart(from, start); // stored before anything of the run is taken
      this.forgetPartials(from);
    }
    if (type === DatagramType.Nak) return this.onNak(datagram, from);
    if (type === DatagramType.Renew) return this.onRenew(datagram, from);
    if (type !== DatagramType.Fragment) return this.dropped();
    this.onFragment(datagram, from, start);
  }

  /** Member `from` began a new run: its messages of the last one will not be completed. */
  private forgetPartials(from: number): void {
    for (const [key, p] of this.partials) {
      if (p.from !== from) continue;
      this.partials.delete(key);
      this.stats.messagesDropped++;
    }
  }

  private dropped(): void {
    this.stats.messagesDropped++;
  }

  /** A datagram from a member's address whose MAC is not the secret's: refused, and told. */
  private forged(from: number, source: RemoteInfo): void {
    this.refused('mac', from, source);
  }

  /** Asks member `from` to begin a run above the newest start of it known here (`seen`: its). */
  private askRenew(from: number, seen: number): void {
    const peer = this.peers.get(from);
    const newest = this.windows.newest(from); // asked for apart from other starts (RenewAsks)
    if (peer === undefined || !this.renewAsks.due(from, performance.now(), seen, newest)) return;
    const bytes = Buffer.alloc(renewBytes);
    writeHeader(bytes, DatagramType.Renew, this.id, this.newId(), 0, 1, this.start);
    writeRenew(bytes, seen, newest);
    seal(bytes, this.mac);
    this.stats.renewsAsked++;
    this.transmit({ to: peer, bytes, waiting: null, index: 0, queuedAt: 0, resentAt: null });
  }

  /** A Renew (one datagram, taken once; unvouched: heeded only): renews this run if named. */
  private onRenew(datagram: Buffer, from: number, vouched = true): void {
    if (vouched) this.windows.taken(from, datagram.readUInt32LE(4));
    const floor = renewFloor(datagram, this.runStart);
    if (floor < 0) return;
    const was = this.runStart;
    this.renewRun(floor);
    this.onRenewed(from, was, this.runStart);
  }

  private refused(reason: RefusalReason, from: number, source: RemoteInfo): void {
    this.dropped();
    this.refusals.note(reason, from, source.address, source.port);
  }

  /**
   * Whether a datagram whose header names member `from` came from that member's address and
   * port; refused (counted, told at a bounded rate) when not. Checked after the checksum (a
   * damaged id is damage, not a refusal) and before anything else of the datagram is read.
   */
  private fromPeer(from: number, source: RemoteInfo): boolean {
    if (!this.peers.has(from)) {
      this.refusals.note('member', from, source.address, source.port);
      return false;
    }
    const seen = this.peers.check(from, source.address, source.port);
    if (seen === Source.Peer) return true;
    if (seen === Source.Other) this.refusals.note('address', from, source.address, source.port);
    return false;
  }

  /** A member's datagram or message of another version: dropped, told once several say so. */
  private otherVersion(from: number, layer: VersionLayer, theirs: number): void {
    this.dropped();
    this.stats.otherVersion++;
    const ours = layer === 'transport' ? transportVersion : replicationVersion;
    this.versions.note(from, layer, theirs, ours);
  }

  /** A fragment of message `id` of `from`'s run `start` (not taken yet: replay-window.ts). */
  private onFragment(datagram: Buffer, from: number, start: number): void {
    const id = datagram.readUInt32LE(4);
    const index = datagram.readUInt16LE(8);
    const count = datagram.readUInt16LE(10);
    const key = messageKey(from, id);
    if (count === 0 || index >= count) return;
    const now = performance.now();
    let p = this.partials.get(key);
    if (p === undefined) {
      if (this.partials.size >= udpReassemblyMax) this.evictOldestPartial();
      const chunks = new Array<Buffer | undefined>(count).fill(undefined);
      const unNaked = { nakAt: 0, naks: 0, retryAt: 0 }; // nak-pacing.ts
      p = { from, start, id, chunks, missing: count, highest: -1, lastAt: now, ...unNaked };
      this.partials.set(key, p);
    }
    if (p.chunks.length !== count || p.chunks[index] !== undefined) return;
    p.chunks[index] = datagram.subarray(datagramHeaderBytes); // each datagram has its own buffer
    p.missing--;
    p.lastAt = now;
    progressed(p);
    if (index > p.highest) p.highest = index;
    if (p.missing > 0) {
      this.wakeTimer(); // to NAK what does not come
      return;
    }
    this.partials.delete(key);
    this.windows.taken(from, id);
    const bytes = count === 1 ? p.chunks[0]! : Buffer.concat(p.chunks as Buffer[]); // one: as is
    const theirs = messageVersion(bytes);
    if (theirs !== null && theirs !== replicationVersion) {
      return this.otherVersion(from, 'replication', theirs);
    }
    if (theirs !== null) this.versions.ours(from, 'replication');
    const message = decodeMessage(bytes);
    if (message === null || message.from !== from) return this.dropped();
    this.stats.messagesReceived++;
    this.onMessage(message);
  }

  private evictOldestPartial(): void {
    const oldest = this.partials.keys().next().value as number;
    this.partials.delete(oldest);
    this.stats.messagesDropped++;
  }

  /**
   * NAKs what is missing from stalled messages; drops those stalled too long. A check later
   * than udpNakTailMs after the last one means this process did not run meanwhile (a loaded
   * machine, a long GC): that time is not held against messages, whose fragments may be waiting
   * in the socket, read only after the timers. (Held against them, every partial was dropped
   * after a stall of udpReassemblyTimeoutMs; the fragments read next began new ones that lacked
   * the first, so the message never completed without a resend.)
   */
  private checkPartials(now: number): void {
    const stalledMs = Math.max(0, now - this.checkedAt - udpNakTailMs);
    this.checkedAt = now;
    for (const [key, p] of this.partials) {
      // Never past now: a fragment read after the stall (before the timers) ran no clock.
      const shift = Math.min(stalledMs, now - p.lastAt);
      p.lastAt += shift;
      if (p.nakAt > 0) {
        p.nakAt += shift; // and so is its NAKs' wait: their answer may be in the socket
        p.retryAt += shift;
      }
      if (now - p.lastAt > udpReassemblyTimeoutMs) {
        this.partials.delete(key);
        this.stats.messagesDropped++;
        continue;
      }
      if (!this.naks.due(p, now)) continue;
      // Only gaps, until the message has stalled for udpNakTailMs: then its tail too. (Every
      // fragment above the highest that came is missing: the gaps are what is missing besides.)
      const tail = now - p.lastAt >= udpNakTailMs;
      if (!tail && p.missing === p.chunks.length - 1 - p.highest) continue; // no gap yet
      if (!this.naks.allowed(p.from, now)) continue; // its peer's are spent: the next window
      if (!this.sendNak(p, tail ? p.chunks.length : p.highest)) continue;
      if (this.naks.sent(p, now)) this.stats.nakWindowsFull++;
    }
  }

  /** NAKs the fragments missing below `upTo`; false when none are. */
  private sendNak(p: Partial, upTo: number): boolean {
    const peer = this.peers.get(p.from);
    if (peer === undefined) return false;
    const missing: number[] = [];
    for (let i = 0; i < upTo && missing.length < 600; i++) {
      if (p.chunks[i] === undefined) missing.push(i);
    }
    if (missing.length === 0) return false;
    const at = datagramHeaderBytes + nakTargetBytes;
    const nak = Buffer.alloc(at + missing.length * 2);
    writeHeader(nak, DatagramType.Nak, this.id, this.newId(), missing.length, 0, this.start);
    nak.writeDoubleLE(p.start, datagramHeaderBytes);
    nak.writeUInt32LE(p.id, datagramHeaderBytes + 8);
    missing.forEach((index, i) => nak.writeUInt16LE(index, at + i * 2));
    seal(nak, this.mac);
    this.stats.naksSent++;
    this.transmit({ to: peer, bytes: nak, waiting: null, index: 0, queuedAt: 0, resentAt: null });
    return true;
  }

  /** Resends what a receiver lacks of a retained message of this run. A NAK is taken once. */
  private onNak(datagram: Buffer, from: number): void {
    this.windows.taken(from, datagram.readUInt32LE(4));
    this.stats.naksReceived++; // a receiver asked (answered or not: the rest is counted below)
    const n = datagram.readUInt16LE(8);
    const at = datagramHeaderBytes + nakTargetBytes;
    if (datagram.byteLength < at + n * 2) return this.dropped();
    if (datagram.readDoubleLE(datagramHeaderBytes) !== this.start) return; // of an earlier run
    const retained = this.retained.get(messageKey(from, datagram.readUInt32LE(at - 4)));
    const peer = this.peers.get(from);
    if (retained === undefined || peer === undefined) return;
    const count = retained.waiting.length;
    const now = performance.now();
    retained.resentAt ??= new Float64Array(count);
    for (let i = 0; i < n; i++) {
      const index = datagram.readUInt16LE(at + i * 2);
      if (index >= count || retained.waiting[index] === 1) continue; // still queued: coming
      if (lingering(retained.resentAt, index, now)) {
        this.stats.resendsCoalesced++; // resent just now: that resend answers this NAK too
        continue;
      }
      if (this.queued() >= udpSendQueueMax) continue;
      this.stats.fragmentsResent++;
      this.queueDatagram(peer, retained.datagrams[index], retained, index, true, retained.resentAt);
    }
    this.pumpSoon();
  }
}

/** What a datagram of `bytes` counts for in the pacing: 1 up to the default size (1,424). */
function pacedAs(bytes: number): number {
  return bytes <= datagramBytesDefault ? 1 : bytes / datagramBytesDefault;
}

/**
 * A message's key in the maps of messages sent and being reassembled: the peer's id (one byte
 * on the wire) above the 32-bit message id. A number, not a string built per datagram.
 */
function messageKey(peer: number, id: number): number {
  return peer * 0x1_0000_0000 + id;
}
