/**
 * A whole cluster in one process, for the deterministic simulation: replicas running the real
 * `Consensus`, a fake clock (ticks), a fake network that drops, duplicates, delays (so
 * reorders) and cuts links one way, fake disks whose writes become durable later (and are lost
 * in a crash), and clients that resend what was not acknowledged. Everything random comes
 * from one seed, so a failing scenario replays exactly.
 */
import { createHash } from 'node:crypto';
import { Consensus, type ConsensusIo } from '../../src/replication/consensus.js';
import { Role, type EntryMeta, type Message } from '../../src/replication/messages.js';
import { Rng } from '../../src/stdx/rng.js';
import { SimStandbyLog, type StandbyLogKnobs } from './sim-standby-log.js';

export { Rng };

export interface Faults {
  drop: number;
  duplicate: number;
  /** Extra delivery delay, uniform in [0, delayMax] ticks: messages overtake one another. */
  delayMax: number;
  /** Ticks a disk write takes to become durable, at most. */
  flushMax: number;
  /**
   * Chance a message is also delivered to another replica than its own (a datagram replayed to
   * another member, on a network that lets sources be forged). Drawn only when set.
   */
  misdeliver?: number;
  /**
   * Chance a message comes late, by up to `straggleTicksMax` more ticks: one kept in a backed-up
   * paced send queue, or reassembled long after its first fragment (NAK repair). Drawn only
   * when set.
   */
  straggle?: number;
  straggleTicksMax?: number;
}

export const noFaults: Faults = { drop: 0, duplicate: 0, delayMax: 0, flushMax: 1, misdeliver: 0 };

/** One client command: applied at most once, however often it is sent. */
export interface Command {
  client: number;
  seq: number;
}

interface InFlight {
  at: number;
  order: number;
  from: number;
  to: number;
  message: Message;
}

class Disk {
  /** Lost its data and has not caught up since: it may not vote. */
  recovering = false;
  term = 0;
  votedFor = -1;
  log: EntryMeta[] = [];
  /** Entries up to here were compacted out of consensus's memory (it reads them back here). */
  base = 0;
  /** The cluster id consensus stored (0: none yet). */
  clusterId = 0;
  pending: { at: number; index: number; entries: readonly EntryMeta[] }[] = [];
  /** No write becomes durable before this tick (fsync stalled); the process runs on. */
  stallUntil = 0;
  /** This disk's own bound on a write's durability delay when slower (0: the cluster's). */
  flushMax = 0;
  /**
   * With a standby log in front of LMDB (sim-standby-log.ts): writes go there, `log` is then
   * LMDB's journal, and `pending` stays empty. Null: writes durable on their tick, as before.
   */
  logged: SimStandbyLog | null = null;
}

export class Replica {
  consensus!: Consensus;
  up = true;
  /** Entries applied to this replica's state, its state, and its checksum. */
  applied = 0;
  readonly seen = new Map<string, number>();
  checksum = 0;
  /** Stopped (a GC pause, SIGSTOP) until this tick: no timers, no messages, no flushes heard. */
  pausedUntil = 0;
  /**
   * Chance a step ticks its consensus clock: a loaded process's timers run late, and a late
   * setInterval fires once, not once for each period missed (ClusterNode.onTick), so its
   * clock runs slower than the others'. Messages are still read every step.
   */
  clockRate = 1;
  constructor(
    readonly id: number,
    readonly disk: Disk,
  ) {}
}

const empty = new Uint8Array(0);

export class SimCluster {
  now = 0;
  readonly replicas: Replica[] = [];
  readonly faults: Faults;
  /** Directed links cut: "from>to". */
  readonly cut = new Set<string>();
  /** What every entry holds, by hash (payloads are opaque to consensus). */
  private readonly contents = new Map<string, readonly Command[]>();
  /** The hash committed at each index, first seen: it must never change. */
  private readonly committedAt: string[] = [];
  private readonly primaryOfTerm = new Map<number, number>();
  private network: InFlight[] = [];
  private order = 0;
  /** Commands waiting for their acknowledgement, with when they were last sent. */
  readonly waiting = new Map<string, { command: Command; sentAt: number }>();
  readonly acked = new Set<string>();
  /**
   * Messages a test keeps back (one datagram a link delivers long after, past a restart):
   * `hold` says which, at send; `release` sends them on. Unset, it draws nothing.
   */
  hold: ((from: number, to: number, message: Message) => boolean) | null = null;
  private held: InFlight[] = [];
  /**
   * What a receiver reads of a message sent to it (a member of another build decodes fewer
   * fields, test/simulation/rolling-upgrade.test.ts). Unset, it reads what was sent.
   */
  translate: ((from: number, to: number, message: Message) => Message) | null = null;
  /** Starts so far: each start's life (Consensus's `life`). */
  private lives = 0;
  private nextSeq = 1;

  constructor(
    readonly rng: Rng,
    readonly size: number,
    faults: Faults,
    /** Committed entries each replica keeps in memory after a compaction. */
    readonly retain = 2,
  ) {
    this.faults = { ...faults };
    for (let id = 1; id <= size; id++) {
      const replica = new Replica(id, new Disk());
      this.replicas.push(replica);
      this.boot(replica, false);
    }
  }

  private boot(replica: Replica, recovering: boolean): void {
    replica.up = true;
    replica.pausedUntil = 0;
    replica.applied = 0;
    replica.seen.clear();
    replica.checksum = 0;
    replica.consensus = new Consensus(
      {
        id: replica.id,
        members: Array.from({ length: this.size }, (_, i) => i + 1),
        random: () => this.rng.next(),
        recovering,
        life: ++this.lives, // one per start, drawing nothing: seeds replay as before
        term: replica.disk.term,
        votedFor: replica.disk.votedFor,
        log: replica.disk.log.slice(replica.disk.base),
        base: replica.disk.base,
        retain: this.retain,
        clusterId: replica.disk.clusterId,
      },
      this.io(replica),
    );
  }

  private io(replica: Replica): ConsensusIo {
    return {
      send: (to, message) => this.send(replica.id, to, message),
      write: (index, entries) => {
        if (replica.disk.logged !== null) return replica.disk.logged.add(index, entries);
        const last = replica.disk.pending[replica.disk.pending.length - 1];
        const flushMax = Math.max(this.faults.flushMax, replica.disk.flushMax);
        const at = Math.max(last?.at ?? 0, this.now + 1 + this.rng.int(flushMax));
        replica.disk.pending.push({ at, index, entries });
      },
      saveVote: (term, votedFor) => {
        replica.disk.term = term;
        replica.disk.votedFor = votedFor;
      },
      committed: (index) => this.onCommitted(replica, index),
      roleChanged: (role, term) => {
        if (role !== Role.Primary) return;
        const other = this.primaryOfTerm.get(term);
        if (other !== undefined && other !== replica.id) {
          throw new Error(`two primaries in term ${term}: ${other} and ${replica.id}`);
        }
        this.primaryOfTerm.set(term, replica.id);
      },
      openTerm: () => this.propose(replica, []),
      payload: () => empty,
      stored: (index) => {
        const disk = replica.disk;
        if (index > disk.base) throw new Error(`disk: entry ${index} is not compacted`);
        return disk.logged?.metaAt(index) ?? disk.log[index - 1];
      },
      compacted: (from, entries) => this.compacted(replica.disk, from, entries),
      verify: (entry) => this.contents.has(entry.hash),
      recovered: () => {
        replica.disk.recovering = false;
      },
      sealed: (clusterId) => {
        replica.disk.clusterId = clusterId;
      },
      foreign: () => {}, // counted in consensus.stats
      truncated: () => {}, // what a cut may drop, consensus asserts (never a committed entry)
      // A turn's catch-up share, used up at random: deferred sends go at the next step.
      catchUpRoom: () => this.rng.chance(0.7),
    };
  }

  /** Consensus may compact only entries durable on this disk, in order. */
  private compacted(disk: Disk, from: number, entries: readonly EntryMeta[]): void {
    if (from !== disk.base + 1) throw new Error(`disk: compaction from ${from}, base ${disk.base}`);
    const durable = disk.logged?.durable ?? disk.log;
    for (let k = 0; k < entries.length; k++) {
      if (durable[from - 1 + k]?.hash !== entries[k].hash) {
        throw new Error(`disk: compacted entry ${from + k} is not the durable one`);
      }
    }
    disk.base = from + entries.length - 1;
  }

  private send(from: number, to: number, message: Message): void {
    if (this.hold?.(from, to, message) === true) {
      this.held.push({ at: 0, order: this.order++, from, to, message });
      return;
    }
    if (this.cut.has(`${from}>${to}`) || this.rng.chance(this.faults.drop)) return;
    const copies = this.rng.chance(this.faults.duplicate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const at = this.now + 1 + this.rng.int(this.faults.delayMax + 1) + this.lateness();
      this.network.push({ at, order: this.order++, from, to, message });
    }
    const misdeliver = this.faults.misdeliver ?? 0; // no draw when unset: seeds replay as before
    if (misdeliver > 0 && this.rng.chance(misdeliver)) {
      const other = 1 + this.rng.int(this.replicas.length);
      if (other === from || other === to) return;
      const at = this.now + 1 + this.rng.int(this.faults.delayMax + 1);
      this.network.push({ at, order: this.order++, from, to: other, message });
    }
  }

  /**
   * Sends on the held messages from `from` (to `to` only, when set; those `which` picks), to
   * arrive at the next step; returns how many.
   */
  release(from: number, to = 0, which?: (message: Message) => boolean): number {
    const ours = (m: InFlight): boolean =>
      m.from === from && (to === 0 || m.to === to) && (which === undefined || which(m.message));
    const mine = this.held.filter(ours);
    this.held = this.held.filter((m) => !ours(m));
    for (const m of mine) this.network.push({ ...m, at: this.now + 1 });
    return mine.length;
  }

  /** Extra ticks a message comes late (a straggler); no draw when stragglers are off. */
  private lateness(): number {
    const straggle = this.faults.straggle ?? 0;
    if (straggle === 0 || !this.rng.chance(straggle)) return 0;
    return 1 + this.rng.int(this.faults.straggleTicksMax ?? 1);
  }

  /** Applies newly committed entries, checks them against what was committed before. */
  private onCommitted(replica: Replica, index: number): void {
    const c = replica.consensus;
    for (let i = replica.applied + 1; i <= index; i++) {
      const hash = c.entry(i).hash;
      const before = this.committedAt[i];
      if (before !== undefined && before !== hash) {
        throw new Error(`replica ${replica.id} committed another entry at index ${i}`);
      }
      this.committedAt[i] = hash;
      for (const command of this.contents.get(hash) ?? []) this.apply(replica, command);
      replica.applied = i;
    }
    if (c.role === Role.Primary) this.acknowledge(replica);
  }

  /** Applies a command once: a resent one is seen and skipped (idempotency). */
  private apply(replica: Replica, command: Command): void {
    const key = `${command.client}:${command.seq}`;
    const times = replica.seen.get(key) ?? 0;
    replica.seen.set(key, times + 1);
    if (times > 0) return;
    replica.checksum = (Math.imul(replica.checksum ^ command.client, 0x01000193) + command.seq) | 0;
  }

  /** The primary answers the clients whose commands are committed now. */
  private acknowledge(replica: Replica): void {
    for (const key of this.waiting.keys()) {
      if (!replica.seen.has(key)) continue;
      this.waiting.delete(key);
      this.acked.add(key);
    }
  }

  /** Makes an entry of the replica's term holding `commands`, and proposes it. */
  private propose(replica: Replica, commands: readonly Command[]): void {
    const c = replica.consensus;
    const prevHash = c.hashAt(c.lastIndex);
    const first = c.lastSequence() + 1;
    const count = Math.max(1, commands.length);
    // The tick stands for a batch's timestamp: it makes each cluster's first entry its own.
    const text = JSON.stringify([c.term, first, count, commands, this.now]);
    const hash = createHash('sha256').update(prevHash).update(text).digest('hex');
    this.contents.set(hash, commands);
    const last = first + count - 1; // one event per command here
    c.propose({ term: c.term, first, last, count, prevHash, hash, payload: new Uint8Array(0) });
  }

  /** The replica clients would find as primary (the highest term among those up). */
  primary(): Replica | undefined {
    let best: Replica | undefined;
    for (const r of this.replicas) {
      if (!r.up || r.consensus.role !== Role.Primary) continue;
      if (best === undefined || r.consensus.term > best.consensus.term) best = r;
    }
    return best;
  }

  /** A client sends a new command (to the primary, if any; else it waits to resend). */
  submit(client: number): Command {
    const command = { client, seq: this.nextSeq++ };
    this.waiting.set(`${client}:${command.seq}`, { command, sentAt: -1_000_000 });
    return command;
  }

  /** One tick: disks flush, messages arrive, clocks tick, clients send and resend. */
  step(resendTicks: number): void {
    this.now++;
    this.flushDisks();
    this.deliver();
    for (const r of this.replicas) if (this.running(r)) r.consensus.resumeCatchUp();
    for (const r of this.replicas) if (this.running(r) && this.ticks(r)) r.consensus.tick();
    // Probe hints (ClusterNode: the primary's port refused), right or wrong: they may start an
    // election early, and must never change how one is won.
    for (const r of this.replicas) {
      if (this.running(r) && this.rng.chance(0.002)) r.consensus.suspectPrimary();
    }
    const p = this.primary();
    if (p === undefined || !this.running(p)) return; // a paused primary: clients resend later
    const batch: Command[] = [];
    for (const w of this.waiting.values()) {
      if (this.now - w.sentAt < resendTicks) continue;
      w.sentAt = this.now;
      batch.push(w.command);
      if (batch.length === 8) break;
    }
    if (batch.length > 0) this.propose(p, batch);
  }

  /** Whether `replica`'s clock ticks this step (no draw at the full rate). */
  private ticks(replica: Replica): boolean {
    return replica.clockRate >= 1 || this.rng.chance(replica.clockRate);
  }

  /** Up and not paused: its process runs. */
  private running(replica: Replica): boolean {
    return replica.up && this.now >= replica.pausedUntil;
  }

  /** Stops `replica` for `ticks`: what reaches it meanwhile waits (its socket's buffer). */
  pause(replica: Replica, ticks: number): void {
    if (!replica.up) return;
    replica.pausedUntil = Math.max(replica.pausedUntil, this.now + ticks);
  }

  private flushDisks(): void {
    for (const r of this.replicas) {
      if (!this.running(r) || this.now < r.disk.stallUntil) continue;
      const disk = r.disk;
      if (disk.logged !== null) {
        disk.logged.flush((index, hash) => r.consensus.onDurable(index, hash));
        disk.logged.follow(r.consensus, this.committedAt);
        continue;
      }
      while (disk.pending.length > 0 && disk.pending[0].at <= this.now) {
        const write = disk.pending.shift()!;
        if (write.index > disk.log.length + 1) throw new Error('disk: a write past the end');
        if (write.index <= disk.base) throw new Error('disk: a write over compacted entries');
        disk.log.length = write.index - 1;
        disk.log.push(...write.entries);
        const last = disk.log.length;
        r.consensus.onDurable(last, disk.log[last - 1].hash);
      }
    }
  }

  private deliver(): void {
    const due = this.network.filter((m) => m.at <= this.now);
    if (due.length === 0) return;
    this.network = this.network.filter((m) => m.at > this.now);
    due.sort((a, b) => a.at - b.at || a.order - b.order);
    for (const m of due) {
      const r = this.replicas[m.to - 1];
      if (r.up && r.pausedUntil > this.now) {
        this.network.push({ ...m, at: r.pausedUntil }); // read once it runs again
        continue;
      }
      if (!r.up || this.cut.has(`${m.from}>${m.to}`)) continue;
      r.consensus.receive(this.translate?.(m.from, m.to, m.message) ?? m.message);
    }
  }

  crash(replica: Replica, wipe: boolean): void {
    replica.disk.logged?.crash(wipe, replica.up);
    replica.up = false;
    replica.disk.pending = []; // not yet durable: lost
    if (wipe) {
      replica.disk.log = [];
      replica.disk.base = 0;
      replica.disk.term = 0;
      replica.disk.votedFor = -1;
      replica.disk.clusterId = 0;
      replica.disk.recovering = true;
    }
  }

  /**
   * Replaces the disk of `replica` (down) with a copy of `other`'s, a replica of the cluster
   * `from`: an operator's copied folder. The entries' contents come along (they verify).
   */
  transplant(replica: Replica, from: SimCluster, other: Replica): void {
    const d = other.disk;
    if (d.logged !== null) throw new Error('disk: a folder with a standby log is not copied');
    Object.assign(replica.disk, { ...d, log: [...d.log], pending: [] });
    for (const [hash, commands] of from.contents) this.contents.set(hash, commands);
  }

  restart(replica: Replica): void {
    // A start replays the standby log first; a crash during it leaves the member down.
    const logged = replica.disk.logged;
    if (logged !== null && !logged.recover()) return;
    if (logged !== null) replica.disk.log = logged.lmdb;
    this.boot(replica, replica.disk.recovering);
  }

  /** Puts a standby log in front of each replica's LMDB (its disks empty yet). */
  useStandbyLogs(knobs: StandbyLogKnobs): void {
    for (const r of this.replicas) {
      const flushMax = (): number => Math.max(this.faults.flushMax, r.disk.flushMax);
      r.disk.logged = new SimStandbyLog(this.rng, knobs, flushMax, () => this.now);
    }
  }

  /** Replicas that lost data and have not caught up (down or up). */
  recoveringCount(): number {
    return this.replicas.filter((r) => r.disk.recovering).length;
  }

  /** Every replica's committed prefix, as hashes. */
  committedLog(replica: Replica): string[] {
    const c = replica.consensus;
    return Array.from({ length: c.commit }, (_, i) => c.entry(i + 1).hash);
  }
}
