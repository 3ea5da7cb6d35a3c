/**
 * A member's storage with the standby log in front of LMDB (src/replication/standby-log.ts),
 * for the deterministic simulation's standby-log mix: the real StandbyLog (its records, CRCs,
 * partial writes, wrap, torn-tail and old-lap detection), the real LogApplier and the real
 * replay (replayStandbyLog) run against a file in memory and a model of LMDB, on the
 * simulation's ticks. Two stages, each durable on its own tick, a crash between any two:
 *
 *   consensus write ─► pending ─► log append (file write; may be partial, then the rest)
 *                                   └► acknowledged (onDurable) ─► LogApplier ─► LMDB txn
 *                                                                  (entries + mark, atomic)
 *
 * GroupCommit (src/pipeline/group-commit.ts) is async (setImmediate, awaits) and the simulation
 * steps synchronously, so its writeAll is modelled here, branch for branch (the group-commit
 * mix, sim-group-commit.ts, runs the real one, asynchronously, under a primary's stream): a
 * group too large for the log goes to LMDB once the applier is idle, with the log's tail as
 * mark; one that does not fit before the end waits for the applier to be idle, wraps, then
 * appends; else it appends. LMDB's writes are thenables this file settles on the tick their
 * transaction commits (the LogApplier chains on them synchronously; its `idle`, which awaits,
 * is not run: the promotion's drain is checked as "LMDB holds the whole log whenever nothing is
 * in flight").
 *
 * A crash tears the file write in flight (nothing, some 16-byte chunks, or all of it landed,
 * never acknowledged), and the LMDB transaction in flight commits or not (the process never
 * learns which: LMDB's mark may be past what it knew). A restart replays the log into LMDB with
 * the real code, itself crashed part-way at times; the journal it leaves must be what was
 * acknowledged, or that and the torn group when it landed whole. Readers of LMDB (a hot
 * standby's follower, limited as ClusterNode.followLimit) must read only committed entries.
 *
 * Modelled, not run: the acknowledgement comes when StandbyLog moves its tail past the record
 * (the real append resolves right after, a microtask this synchronous model cannot await);
 * ReplicaStore's unapplied map (noteUnapplied,
 * dropApplied, metaAt read it first) is mirrored here; every member writes through its log,
 * a primary too (a real one's own journal writer writes LMDB, after the promotion's drain); the
 * record's commit is not checked (nothing here reads it back); a log file lost under its LMDB
 * (a start refuses it, the operator starts the member on an empty folder) is a disk lost.
 */
import { standbyLogRecordBytesMax } from '../../src/constants.js';
import { genesisHashHex } from '../../src/replication/hashes.js';
import type { Consensus } from '../../src/replication/consensus.js';
import { Role, type Entry, type EntryMeta } from '../../src/replication/messages.js';
import { replayStandbyLog, type ReplayTarget } from '../../src/replication/standby-log-replay.js';
import { StandbyLog, type LogFile, type LogMark } from '../../src/replication/standby-log.js';
import { LogApplier, type AppliedStore } from '../../src/pipeline/log-applier.js';
import type { Rng } from '../../src/stdx/rng.js';

/** A mix's knobs for the standby log (unset in the other mixes: their disks as before). */
export interface StandbyLogKnobs {
  /** Each member's log file is [fileBytesMin, fileBytesMin + fileBytesSpread) bytes. */
  fileBytesMin: number;
  fileBytesSpread: number;
  /** Chance a file write takes only part of its bytes (the rest is written again). */
  partialChance: number;
  /** Chance a start's replay is itself cut short by a crash, at each record it stores. */
  replayCrashChance: number;
  /** An LMDB transaction commits within [1, lmdbFlushFactor * the disk's flush bound]. */
  lmdbFlushFactor: number;
}

interface FileWrite {
  readonly from: Buffer;
  readonly offset: number;
  readonly length: number;
  readonly position: number;
  readonly done: (error: Error | null, written: number) => void;
  readonly at: number;
}

/** The log's file in memory: one write in flight, durable on its tick, torn by a crash. */
export class MemoryFile implements LogFile {
  readonly data: Buffer;
  op: FileWrite | null = null;
  /** A write StandbyLog should never have asked for. */
  fault: Error | null = null;

  constructor(
    readonly bytes: number,
    private readonly due: () => number,
    private readonly onPartial: () => void,
  ) {
    this.data = Buffer.alloc(bytes);
  }

  read(into: Buffer, offset: number, length: number, position: number): void {
    into.fill(0, offset, offset + length);
    this.data.copy(into, offset, position, Math.min(this.bytes, position + length));
  }

  write(...[from, offset, length, position, done]: Parameters<LogFile['write']>): void {
    // Kept for flush to throw: thrown here, it would only reject the append, which no one reads.
    if (this.op !== null) this.fault ??= new Error('standby log: two writes in flight');
    if (position + length > this.bytes)
      this.fault ??= new Error('standby log: a write past the end');
    if (this.fault !== null) return;
    this.op = { from, offset, length, position, done, at: this.due() };
  }

  /** A journal writer's write (pipeline/journal-log.ts): no member's standby log makes one. */
  writeSync(): number {
    throw new Error('standby log: a synchronous write (the journal log is not modelled)');
  }

  close(): void {}

  /** The write in flight lands, all of it or (partial) a part; its callback runs. */
  complete(rng: Rng, partialChance: number): void {
    const op = this.op!;
    this.op = null;
    const part = op.length > 1 && rng.chance(partialChance);
    if (part) this.onPartial();
    const written = part ? 1 + rng.int(op.length - 1) : op.length;
    op.from.copy(this.data, op.position, op.offset, op.offset + written);
    op.done(null, written);
  }

  /** A crash during the write in flight: none, some 16-byte chunks, or all of it landed. */
  tear(rng: Rng): void {
    const op = this.op;
    this.op = null;
    if (op === null) return;
    const mode = rng.int(3);
    for (let at = 0; at < op.length; at += 16) {
      if (mode === 0 || (mode === 1 && rng.chance(0.5))) continue;
      const end = Math.min(op.length, at + 16);
      op.from.copy(this.data, op.position + at, op.offset + at, op.offset + end);
    }
  }
}

/** An LMDB transaction in flight: its entries and mark, committed at `at` (a thenable). */
class Txn {
  private ok: (() => void) | null = null;

  constructor(
    readonly writes: readonly (readonly Entry[])[],
    readonly mark: LogMark,
    readonly at: number,
  ) {}

  then(ok: () => void): Txn {
    this.ok = ok;
    return this;
  }

  settle(): void {
    this.ok?.();
  }
}

/** The group commit's write: the groups taken from `pending`, and its stage. */
interface Storing {
  readonly writes: Entry[][];
  /** Each group's first log index (consensus's view is cut there). */
  readonly at: number[];
  readonly index: number;
  stage: 'wait-db' | 'db' | 'wait-wrap' | 'append';
  committed: number;
  /** The number of its record in the log, once it is appended. */
  record: number;
}

/** Thrown by the model's LMDB during a replay the scenario crashes. */
export class ReplayCrash extends Error {}

export class SimStandbyLog {
  /** LMDB's journal, by log index (index - 1), and its mark into the log. */
  lmdb: EntryMeta[] = [];
  private mark: LogMark = { record: 1, offset: 0 };
  /** What consensus was told is durable (the simulation's disk before this model). */
  durable: EntryMeta[] = [];
  private file: MemoryFile;
  private log!: StandbyLog;
  private applier!: LogApplier;
  private unapplied = new Map<number, Entry>();
  private pending: { index: number; entries: Entry[] }[] = [];
  private storing: Storing | null = null;
  private txns: Txn[] = [];
  /** What a start's replay may leave (length and last hash): what a crash could have kept. */
  private expected: string[] = [];
  /** The follower's position in LMDB (a log index), and the replays that took records. */
  private followed = 0;
  private readonly payloads = new Map<string, Uint8Array>();
  /** The term it last saw itself primary in (stats.promotedBehind). */
  private primaryTerm = 0;
  /** How often each window was reached (a test checks every one is). */
  readonly stats = {
    /** Crashes with acknowledged groups LMDB lacked; with an LMDB commit it never learned of. */
    crashesBehind: 0,
    landedUnlearned: 0,
    /** Disks lost with acknowledged groups only in the log. */
    wipedBehind: 0,
    /** Crashes during a log write; writes that took part of their bytes. */
    torn: 0,
    partial: 0,
    /** Records replayed at starts; replays crashed part-way; wraps; groups straight to LMDB. */
    replayed: 0,
    replayCrashes: 0,
    wraps: 0,
    direct: 0,
    /** Terms this member became primary in while LMDB lacked part of its log. */
    promotedBehind: 0,
  };

  constructor(
    private readonly rng: Rng,
    private readonly knobs: StandbyLogKnobs,
    private readonly flushMax: () => number,
    private readonly now: () => number,
  ) {
    this.file = this.newFile();
    this.fresh();
  }

  private newFile(): MemoryFile {
    const bytes = this.knobs.fileBytesMin + this.rng.int(this.knobs.fileBytesSpread);
    const due = (): number => this.now() + 1 + this.rng.int(this.flushMax());
    return new MemoryFile(bytes, due, () => this.stats.partial++);
  }

  /** A new process: its StandbyLog, LogApplier and group commit, nothing in flight. */
  private fresh(): void {
    this.log = new StandbyLog(this.file);
    this.unapplied = new Map();
    this.pending = [];
    this.storing = null;
    this.txns = [];
    this.followed = 0;
    const store: AppliedStore = {
      // Settled by flush on its tick (a thenable: the simulation runs synchronously).
      writeMany: (writes, _committed, mark) =>
        this.begin(writes, mark!) as unknown as Promise<void>,
      noteUnapplied: (writes) => {
        for (const entries of writes) for (const e of entries) this.unapplied.set(e.first, e);
      },
      dropApplied: (writes) => {
        for (const entries of writes) {
          for (const e of entries)
            if (this.unapplied.get(e.first) === e) this.unapplied.delete(e.first);
        }
      },
    };
    this.applier = new LogApplier(store, {
      applied: () => {},
      failed: (error) => {
        throw error;
      },
    });
  }

  private begin(writes: readonly (readonly Entry[])[], mark: LogMark): Txn {
    const factor = this.knobs.lmdbFlushFactor;
    const txn = new Txn(writes, mark, this.now() + 1 + this.rng.int(factor * this.flushMax()));
    this.txns.push(txn);
    return txn;
  }

  /** Consensus writes `entries` from log index `index` (ClusterNode.write, a standby's). */
  add(index: number, entries: readonly EntryMeta[]): void {
    this.pending.push({ index, entries: entries.map((e) => this.logged(e)) });
  }

  /** An entry as the log stores it: its payload says its metadata (a batch does, encoded). */
  private logged(meta: EntryMeta): Entry {
    let payload = this.payloads.get(meta.hash);
    if (payload === undefined) {
      const { term, first, last, count, prevHash, hash } = meta;
      payload = Buffer.from(JSON.stringify([term, first, last, count, prevHash, hash]));
      this.payloads.set(meta.hash, payload);
    }
    return { ...meta, payload };
  }

  /**
   * One tick of a running member: LMDB commits due, the file's write due, the next write.
   * `onDurable` is GroupCommit's `stored` (consensus's onDurable).
   */
  flush(onDurable: (index: number, hash: string) => void): void {
    const now = this.now();
    while (this.txns.length > 0 && this.txns[0].at <= now) {
      const txn = this.txns.shift()!;
      this.commit(txn);
      if (this.storing?.stage === 'db')
        this.stored(onDurable); // GroupCommit.storeInDb
      else txn.settle(); // the LogApplier's
    }
    const op = this.file.op;
    if (op !== null && op.at <= now) this.file.complete(this.rng, this.knobs.partialChance);
    this.ackIfAppended(onDurable);
    this.next();
    this.ackIfAppended(onDurable); // never, unless the log said so before its write landed
    if (this.file.fault !== null) throw this.file.fault;
    this.checkIdle();
  }

  /** LMDB's transaction commits: its entries (each group cutting from its first), its mark. */
  private commit(txn: Txn): void {
    for (const entries of txn.writes) storeInto(this.lmdb, entries);
    this.mark = txn.mark;
  }

  /** GroupCommit.flush and writeAll: the next write, or its stage once the applier is idle. */
  private next(): void {
    if (this.storing === null) {
      if (this.pending.length === 0) return;
      const taken = this.pending;
      this.pending = [];
      const writes = taken.map((w) => w.entries);
      const last = taken[taken.length - 1];
      const index = last.index + last.entries.length - 1;
      const bytes = StandbyLog.sizeOf(writes);
      let stage: Storing['stage'] = 'append';
      if (bytes > Math.min(standbyLogRecordBytesMax, this.log.fileBytes)) stage = 'wait-db';
      else if (!this.log.fits(bytes)) stage = 'wait-wrap';
      const at = taken.map((w) => w.index);
      this.storing = { writes, at, index, stage, committed: 0, record: 0 };
      this.committedFor(this.storing);
      if (stage === 'append') this.append(this.storing);
    }
    const s = this.storing;
    if (this.applier.below !== Number.POSITIVE_INFINITY || this.txns.length > 0) return;
    if (s.stage === 'wait-db') {
      s.stage = 'db';
      this.stats.direct++;
      this.begin(s.writes, this.log.next);
    } else if (s.stage === 'wait-wrap') {
      this.stats.wraps++;
      this.log.wrap();
      this.append(s);
    }
  }

  private committedFor(s: Storing): void {
    const last = s.writes[s.writes.length - 1];
    s.committed = last[last.length - 1].last; // bounded by the commit in the real code
  }

  private append(s: Storing): void {
    s.stage = 'append';
    s.record = this.log.next.record;
    void this.log.append(s.writes, s.committed); // its file write settles on a tick (flush)
  }

  /**
   * GroupCommit acknowledges once the append resolves, which StandbyLog does as it moves its
   * tail past the record (when the write's last part landed): the applier takes it, then the
   * acknowledgement (stored).
   */
  private ackIfAppended(onDurable: (index: number, hash: string) => void): void {
    const s = this.storing;
    if (s?.stage !== 'append' || this.log.next.record <= s.record) return;
    this.applier.add(s.writes, s.committed, this.log.next);
    this.stored(onDurable);
  }

  private stored(onDurable: (index: number, hash: string) => void): void {
    const s = this.storing!;
    this.storing = null;
    storeAt(this.durable, s);
    const last = s.writes[s.writes.length - 1];
    onDurable(s.index, last[last.length - 1].hash);
  }

  /** With nothing in flight (a promotion's drain resolves here), LMDB holds the whole log. */
  private checkIdle(): void {
    if (this.storing !== null || this.txns.length > 0) return;
    if (this.applier.below !== Number.POSITIVE_INFINITY) return;
    if (keyOf(this.lmdb) !== keyOf(this.durable)) {
      throw new Error('standby log: idle, and LMDB lacks part of the log');
    }
  }

  /**
   * The consensus view of a compacted entry, as ReplicaStore.metaAt reads it: the log's, if
   * LMDB lacks it yet, else LMDB's. It must be the durable one.
   */
  metaAt(index: number): EntryMeta {
    const want = this.durable[index - 1];
    if (want === undefined) throw new Error(`disk: entry ${index} is not durable`);
    const got = this.unapplied.get(want.first) ?? this.lmdbAt(want.first);
    if (got?.hash !== want.hash) throw new Error(`disk: entry ${index} read back is not durable`);
    return got;
  }

  private lmdbAt(first: number): EntryMeta | undefined {
    for (let k = this.lmdb.length - 1; k >= 0; k--) {
      if (this.lmdb[k].first === first) return this.lmdb[k];
      if (this.lmdb[k].first < first) return undefined;
    }
    return undefined;
  }

  /**
   * A hot standby's follower reads LMDB up to ClusterNode.followLimit (the commit, what is
   * durable in consensus's log now, and below what LMDB lacks): every entry read is committed.
   */
  follow(c: Consensus, committedAt: readonly string[]): void {
    if (c.role === Role.Primary && c.term !== this.primaryTerm) {
      this.primaryTerm = c.term;
      if (keyOf(this.lmdb) !== keyOf(this.durable)) this.stats.promotedBehind++;
    }
    if (c.commit === 0 || c.durableIndex === 0) return;
    const limit = Math.min(
      c.entry(c.commit).last,
      c.entry(c.durableIndex).last,
      this.applier.below,
    );
    while (this.followed < this.lmdb.length && this.lmdb[this.followed].last <= limit) {
      const index = ++this.followed;
      if (index > c.commit || committedAt[index] !== this.lmdb[index - 1].hash) {
        throw new Error(`standby log: a reader of LMDB took entry ${index}, not committed`);
      }
    }
  }

  /** The process dies (its disk lost too when `wipe`): what was in flight tears or not. */
  crash(wipe: boolean, up: boolean): void {
    const behind = keyOf(this.lmdb) !== keyOf(this.durable);
    if (wipe && behind) this.stats.wipedBehind++;
    if (up) {
      const s = this.storing;
      const expected = [keyOf(this.durable)];
      if (behind) this.stats.crashesBehind++;
      for (const txn of this.txns) {
        if (!this.rng.chance(0.5)) break; // committed in order, the rest never
        this.stats.landedUnlearned++;
        this.commit(txn);
        if (s?.stage === 'db') expected[0] = keyOf(this.withWrites(s));
      }
      if (this.file.op !== null && s !== null) {
        this.stats.torn++;
        this.file.tear(this.rng);
        expected.push(keyOf(this.withWrites(s)));
      }
      this.expected = expected;
      this.fresh();
    }
    if (!wipe) return;
    this.file = this.newFile();
    this.lmdb = [];
    this.mark = { record: 1, offset: 0 };
    this.durable = [];
    this.expected = [keyOf([])];
    this.fresh();
  }

  private withWrites(s: Storing): EntryMeta[] {
    const after = [...this.durable];
    storeAt(after, s);
    return after;
  }

  /**
   * A start: the real replay of the log into LMDB. Returns false when the scenario crashed it
   * part-way (the member stays down; the next start replays again). The journal it leaves is
   * what was acknowledged (or that with the torn group, when all of it landed).
   */
  recover(): boolean {
    this.fresh();
    try {
      const { records } = replayStandbyLog(this.target(), this.log);
      this.stats.replayed += records;
    } catch (error) {
      if (!(error instanceof ReplayCrash)) throw error;
      this.stats.replayCrashes++;
      return false;
    }
    const key = keyOf(this.lmdb);
    if (this.expected.length > 0 && !this.expected.includes(key)) {
      throw new Error('standby log: the replay left another journal than acknowledged');
    }
    this.expected = [];
    this.durable = [...this.lmdb];
    return true;
  }

  private target(): ReplayTarget {
    return {
      logMark: () => this.mark,
      entryOf: (payload) => entryOf(payload),
      hashEndingAt: (sequence) => this.lmdb.find((e) => e.last === sequence)?.hash ?? '',
      writeSync: (writes, _committed, mark) => {
        if (writes.length > 0 && this.rng.chance(this.knobs.replayCrashChance)) {
          throw new ReplayCrash('crashed during the replay');
        }
        this.commit(new Txn(writes, mark, 0));
      },
    };
  }
}

/** A logged payload's entry, or why not (decodeBatch's part): its metadata, as JSON. */
export function entryOf(payload: Uint8Array): Entry | string {
  try {
    const meta = JSON.parse(Buffer.from(payload).toString()) as unknown[];
    const [term, first, last, count, prevHash, hash] = meta as [
      number,
      number,
      number,
      number,
      unknown,
      unknown,
    ];
    if (meta.length !== 6 || typeof prevHash !== 'string' || typeof hash !== 'string') {
      return 'not an entry';
    }
    return { term, first, last, count, prevHash, hash, payload };
  } catch {
    return 'not JSON';
  }
}

/** Stores `entries` into `journal` as LMDB does: cut from the first one's sequence, then put. */
export function storeInto(journal: EntryMeta[], entries: readonly EntryMeta[]): void {
  if (entries.length === 0) return;
  const from = entries[0].first;
  while (journal.length > 0 && journal[journal.length - 1].first >= from) journal.pop();
  const end = journal.length === 0 ? 0 : journal[journal.length - 1].last;
  if (end !== from - 1) throw new Error(`disk: LMDB's write at ${from} leaves a gap after ${end}`);
  journal.push(...entries);
}

/** Stores a write's groups into consensus's durable view, as the simulation's disk did. */
function storeAt(durable: EntryMeta[], s: Storing): void {
  for (let g = 0; g < s.writes.length; g++) {
    if (s.at[g] > durable.length + 1) throw new Error('disk: a write past the end');
    durable.length = s.at[g] - 1;
    durable.push(...s.writes[g]);
  }
}

/** A journal's identity: its length and last hash (entries chain by hash). */
export function keyOf(journal: readonly EntryMeta[]): string {
  return journal.length === 0
    ? `0:${genesisHashHex}`
    : `${journal.length}:${journal[journal.length - 1].hash}`;
}
