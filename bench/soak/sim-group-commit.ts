/**
 * The group-commit mix of the deterministic simulation: a primary's stream of entries to two or
 * three standbys, each running the real write path of a member (src/pipeline/group-commit.ts:
 * GroupCommit, with its StandbyLog, LogApplier and, at a start, replayStandbyLog) on a file in
 * memory (sim-standby-log.ts MemoryFile) and a model of LMDB, with crashes between its stages
 * and clean stops (GroupCommit.storeLeft) at any point:
 *
 *   add ─► pending ─(setImmediate)─► flush ─► writeAll ─┬─► log append (file write, partial,
 *                                                       │     torn) ─► stored (acknowledged)
 *                                                       │              └► LogApplier ─► LMDB txn
 *                                                       ├─► wait idle, wrap, append
 *                                                       └─► wait idle, LMDB txn (too large)
 *   stop ─► storeLeft: the write in flight, the applier idle, what is pending into LMDB
 *
 * GroupCommit is asynchronous (setImmediate, promises), so this scenario is too: every tick
 * the driver acts synchronously (sends, file writes and LMDB transactions landing, faults),
 * then yields one turn of the event loop (setImmediate, after GroupCommit's own), in which
 * every continuation the real code queued runs. Nothing else runs on the loop (no timers, no
 * I/O), so a seed replays exactly. A crash ends a process: its callbacks are dropped, its file
 * write tears (none, some, all of it), its LMDB transactions commit in order or not.
 *
 * Checked: every acknowledged entry survives a crash (the journal a replay leaves is what was
 * acknowledged, or that and the write in flight, and at a stop what memory held); no group is
 * stored twice into LMDB (written again where LMDB holds it); a clean stop leaves LMDB holding
 * all received, with nothing to replay; after healing, every standby's journal is the primary's.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { genesisHashHex } from '../../src/replication/hashes.js';
import type { Entry } from '../../src/replication/messages.js';
import type { ReplicaStore } from '../../src/replication/replica-store.js';
import { replayStandbyLog, type ReplayTarget } from '../../src/replication/standby-log-replay.js';
import { StandbyLog, type LogFile, type LogMark } from '../../src/replication/standby-log.js';
import { GroupCommit } from '../../src/pipeline/group-commit.js';
import { Rng } from '../../src/stdx/rng.js';
import { entryOf, keyOf, MemoryFile, ReplayCrash, storeInto } from './sim-standby-log.js';

export interface GroupCommitKnobs {
  /** Ticks of faults, [ticksMin, ticksMin + ticksSpread). */
  ticksMin: number;
  ticksSpread: number;
  /** Each standby's log file is [fileBytesMin, fileBytesMin + fileBytesSpread) bytes. */
  fileBytesMin: number;
  fileBytesSpread: number;
  /** A file write lands within [1, fileFlushMax] ticks, an LMDB transaction [1, lmdbFlushMax]. */
  fileFlushMax: number;
  lmdbFlushMax: number;
  partialChance: number;
  /** Per tick: the primary appends entries; it cuts its uncommitted tail (a new term). */
  appendChance: number;
  cutChance: number;
  /** Per tick and standby: a send; a crash; a clean stop; a start (when down). */
  sendChance: number;
  crashChance: number;
  stopChance: number;
  restartChance: number;
  replayCrashChance: number;
  /** An entry's payload is padded by up to padBytesMax (groups too large for the log). */
  padBytesMax: number;
}

/** A group as consensus wrote it: its first log index and its entries. */
interface Group {
  readonly at: number;
  readonly entries: Entry[];
}

/** An LMDB transaction in flight: committed at `at`, then its promise resolves. */
interface Txn {
  readonly writes: readonly (readonly Entry[])[];
  readonly mark: LogMark;
  readonly at: number;
  readonly direct: boolean;
  readonly resolve: () => void;
}

/** One process of a standby: its GroupCommit; dead once crashed or stopped. */
interface Life {
  alive: boolean;
  stopped: boolean;
  txns: Txn[];
  /** A file write since the write in flight began (else it goes to LMDB at once). */
  appended: boolean;
  /** File writes at offset 0, the first excepted: wraps. */
  writes: number;
}

/** What the scenario reached, summed over its standbys (a test checks each window is). */
export function newStats(): Record<string, number> {
  const names = ['crashPending', 'crashWaitIdle', 'crashAppending', 'crashDirect'];
  names.push('crashApplying', 'crashStopping', 'crashesBehind', 'landedUnlearned', 'torn');
  names.push('partial', 'replayed', 'replayCrashes', 'wraps', 'direct', 'stopsBusy');
  names.push('stopsStored', 'cuts', 'acks');
  return Object.fromEntries(names.map((n) => [n, 0]));
}

class Standby {
  /** LMDB's journal (by log index - 1) and mark: the disk, kept across processes. */
  journal: Entry[] = [];
  mark: LogMark = { record: 1, offset: 0 };
  readonly file: MemoryFile;
  life: Life | null = null;
  private gc!: GroupCommit;
  /** What consensus holds (memory), what was acknowledged, and groups not yet acknowledged. */
  mem: Entry[] = [];
  acked: Entry[] = [];
  added: Group[] = [];
  /** How many of `added` the write in flight holds (0: none). */
  inflight = 0;
  /** The journals a start's replay may leave; whether the last stop was clean. */
  expected: string[] = [keyOf([])];
  clean = false;
  failure: Error | null = null;

  constructor(
    readonly id: number,
    private readonly world: World,
  ) {
    const k = world.knobs;
    const bytes = k.fileBytesMin + world.rng.int(k.fileBytesSpread);
    const due = (): number => world.now + 1 + world.rng.int(k.fileFlushMax);
    this.file = new MemoryFile(bytes, due, () => world.stats.partial++);
  }

  get up(): boolean {
    return this.life !== null;
  }

  /** A start: the real replay into LMDB, then a new process. False: crashed during it. */
  start(replayCrashChance: number): boolean {
    const life: Life = { alive: true, stopped: false, txns: [], appended: false, writes: 0 };
    const log = new StandbyLog(this.fileOf(life));
    let records = 0;
    try {
      records = replayStandbyLog(this.target(replayCrashChance), log).records;
    } catch (error) {
      if (!(error instanceof ReplayCrash)) throw error;
      this.world.stats.replayCrashes++;
      return false;
    }
    this.world.stats.replayed += records;
    if (!this.expected.includes(keyOf(this.journal))) {
      throw new Error(`standby ${this.id}: the replay left another journal than acknowledged`);
    }
    if (this.clean && records > 0) throw new Error(`standby ${this.id}: replayed after a stop`);
    this.mem = [...this.journal];
    this.acked = [...this.journal];
    this.added = [];
    this.inflight = 0;
    this.gc = new GroupCommit(this.storeOf(life), log, this.sinkOf(life));
    this.life = life;
    return true;
  }

  /** The log's file as a process sees it: nothing once it is dead. */
  private fileOf(life: Life): LogFile {
    const file = this.file;
    return {
      bytes: file.bytes,
      read: (into, offset, length, position) => file.read(into, offset, length, position),
      write: (from, offset, length, position, done) => {
        if (!life.alive) return;
        life.appended = true;
        if (position === 0 && life.writes++ > 0) this.world.stats.wraps++;
        file.write(from, offset, length, position, done);
      },
      writeSync: () => file.writeSync(),
      close: () => {},
    };
  }

  /** ReplicaStore, as GroupCommit and LogApplier use it: LMDB transactions on ticks. */
  private storeOf(life: Life): ReplicaStore {
    const store = {
      writeMany: (writes: readonly (readonly Entry[])[], _c: number, mark: LogMark | null) => {
        if (!life.alive) return new Promise<void>(() => {}); // a dead process's: never
        if (mark === null) throw new Error('group commit: a write without the log mark');
        const first = this.added[0]?.entries;
        const inDb = this.inflight > 0 && !life.appended && writes[0] === first;
        const left = life.stopped && writes[0] === this.added[this.inflight]?.entries;
        if (inDb) this.world.stats.direct++;
        if (left) this.world.stats.stopsStored++;
        const direct = inDb || left;
        const at = this.world.now + 1 + this.world.rng.int(this.world.knobs.lmdbFlushMax);
        return new Promise<void>((resolve) => {
          life.txns.push({ writes, mark, at, direct, resolve });
        });
      },
      noteUnapplied: () => {},
      dropApplied: () => {},
      logMark: () => this.mark,
    };
    return store as unknown as ReplicaStore;
  }

  private sinkOf(life: Life): ConstructorParameters<typeof GroupCommit>[2] {
    return {
      stored: (index, hash) => {
        if (life.alive) this.stored(index, hash);
      },
      failed: (error) => {
        if (life.alive) this.failure ??= error;
      },
      committedSequence: () => this.world.committedSequence(),
      stopped: () => life.stopped || !life.alive,
      writing: (index) => {
        if (!life.alive) return;
        const last = this.added[this.added.length - 1];
        const end = last === undefined ? -1 : last.at + last.entries.length - 1;
        if (this.inflight !== 0 || end !== index)
          this.failure ??= new Error(`standby ${this.id}: a write is not of what was received`);
        this.inflight = this.added.length;
        life.appended = false;
      },
    };
  }

  /** GroupCommit acknowledged the write in flight: consensus's onDurable. */
  private stored(index: number, hash: string): void {
    const batch = this.added.splice(0, this.inflight);
    this.inflight = 0;
    storeGroups(this.acked, batch);
    this.world.stats.acks++;
    if (batch.length === 0 || this.acked.length !== index || this.acked[index - 1].hash !== hash)
      this.failure ??= new Error(`standby ${this.id}: acknowledged what it was not written`);
  }

  /** Consensus writes `entries` from log index `at` (cutting what memory held from there). */
  receive(at: number, entries: Entry[]): void {
    if (at <= this.mem.length) this.world.stats.cuts++;
    const group = { at, entries };
    this.added.push(group);
    storeGroups(this.mem, [group]);
    this.gc.add(entries, at + entries.length - 1);
  }

  /** Where it stands, for a failure's message. */
  describe(): string {
    const sizes = `mem ${keyOf(this.mem)}, acked ${keyOf(this.acked)}, lmdb ${keyOf(this.journal)}`;
    const life = this.life;
    const busy = life === null ? 'down' : `txns ${life.txns.length}, op ${this.file.op !== null}`;
    return `${this.id}: ${sizes}, added ${this.added.length}, inflight ${this.inflight}, ${busy}`;
  }

  /** A clean stop (ClusterNode.stop): stopped, then storeLeft; LMDB then holds memory. */
  stop(): void {
    const life = this.life!;
    life.stopped = true;
    if (this.added.length > 0) this.world.stats.stopsBusy++;
    this.gc.storeLeft().then(
      () => {
        if (!life.alive) return;
        if (keyOf(this.journal) !== keyOf(this.mem))
          this.failure ??= new Error(`stopped, LMDB lacks what it received: ${this.describe()}`);
        this.end(life, [keyOf(this.mem)], true);
      },
      (error: Error) => {
        if (life.alive) this.failure ??= error;
      },
    );
  }

  private end(life: Life, expected: string[], clean: boolean): void {
    life.alive = false;
    this.life = null;
    this.expected = expected;
    this.clean = clean;
  }

  /** The process dies: its file write tears, its LMDB transactions commit in order or not. */
  crash(): void {
    const life = this.life!;
    const s = this.world.stats;
    const rng = this.world.rng;
    this.countWindows(life);
    const expected = [keyOf(this.acked)];
    const batch = this.added.slice(0, this.inflight);
    if (batch.length > 0) expected.push(keyOf(applied(this.acked, batch)));
    if (life.stopped) expected.push(keyOf(this.mem));
    for (const txn of life.txns) {
      if (!rng.chance(0.5)) break;
      s.landedUnlearned++;
      this.commit(txn);
    }
    if (this.file.op !== null) s.torn++;
    this.file.tear(rng);
    this.end(life, expected, false);
  }

  private countWindows(life: Life): void {
    const s = this.world.stats;
    if (life.stopped) s.crashStopping++;
    if (this.added.length > this.inflight) s.crashPending++;
    if (this.file.op !== null) s.crashAppending++;
    const direct = life.txns.some((t) => t.direct);
    if (direct) s.crashDirect++;
    if (life.txns.some((t) => !t.direct)) s.crashApplying++;
    if (this.inflight > 0 && this.file.op === null && !direct) s.crashWaitIdle++;
    if (keyOf(this.journal) !== keyOf(this.acked)) s.crashesBehind++;
  }

  /** LMDB's transaction commits: its groups (each cutting from its first), then its mark. */
  private commit(txn: { writes: readonly (readonly Entry[])[]; mark: LogMark }): void {
    for (const entries of txn.writes) {
      const at = lastIndexOf(this.journal, entries[0].first);
      if (at >= 0 && this.journal[at].hash === entries[0].hash)
        throw new Error(`standby ${this.id}: the group at ${entries[0].first} stored twice`);
      storeInto(this.journal, entries);
    }
    this.mark = txn.mark;
  }

  /** One tick: the file write and LMDB transactions due land (their callbacks run). */
  land(): void {
    const life = this.life;
    if (life === null) return;
    const op = this.file.op;
    if (op !== null && op.at <= this.world.now)
      this.file.complete(this.world.rng, this.world.knobs.partialChance);
    while (life.txns.length > 0 && life.txns[0].at <= this.world.now) {
      const txn = life.txns.shift()!;
      this.commit(txn);
      txn.resolve();
    }
    if (this.file.fault !== null) throw this.file.fault;
  }

  private target(replayCrashChance: number): ReplayTarget {
    return {
      logMark: () => this.mark,
      entryOf: (payload) => entryOf(payload),
      hashEndingAt: (sequence) => this.journal.find((e) => e.last === sequence)?.hash ?? '',
      writeSync: (writes, _committed, mark) => {
        if (writes.length > 0 && this.world.rng.chance(replayCrashChance))
          throw new ReplayCrash('crashed during the replay');
        this.commit({ writes, mark });
      },
    };
  }
}

/** Where in `journal` the entry beginning at sequence `first` is (-1: none). */
function lastIndexOf(journal: readonly Entry[], first: number): number {
  for (let k = journal.length - 1; k >= 0; k--) {
    if (journal[k].first <= first) return journal[k].first === first ? k : -1;
  }
  return -1;
}

/** A journal with `groups` stored into it, each cutting from its first log index. */
function applied(journal: readonly Entry[], groups: readonly Group[]): Entry[] {
  return storeGroups([...journal], groups);
}

/** Stores `groups` into `journal` (in place), each cutting from its first log index. */
function storeGroups(after: Entry[], groups: readonly Group[]): Entry[] {
  for (const g of groups) {
    if (g.at > after.length + 1) throw new Error('group commit: a write past the end');
    after.length = g.at - 1;
    after.push(...g.entries);
  }
  return after;
}

/** The primary and its standbys, on one clock. */
class World {
  now = 0;
  readonly stats = newStats();
  readonly standbys: Standby[] = [];
  /** The primary's log, its term and its commit (a log index). */
  log: Entry[] = [];
  term = 1;
  commit = 0;

  constructor(
    readonly rng: Rng,
    readonly knobs: GroupCommitKnobs,
  ) {
    const count = rng.chance(0.5) ? 2 : 3;
    for (let id = 1; id <= count; id++) this.standbys.push(new Standby(id, this));
    for (const s of this.standbys) s.start(0);
  }

  committedSequence(): number {
    return this.commit === 0 ? 0 : this.log[this.commit - 1].last;
  }

  /** The primary appends a few entries, at times after cutting its uncommitted tail. */
  append(): void {
    const rng = this.rng;
    if (rng.chance(this.knobs.cutChance) && this.log.length > this.commit) {
      this.term++;
      this.log.length = this.commit + rng.int(this.log.length - this.commit);
    }
    for (let n = 1 + rng.int(3); n > 0; n--) {
      const before = this.log[this.log.length - 1];
      const first = before === undefined ? 1 : before.last + 1;
      const count = 1 + rng.int(4);
      const prevHash = before === undefined ? genesisHashHex : before.hash;
      const hash = `${this.term}.${first}.${rng.int(1e9)}`;
      const meta = [this.term, first, first + count - 1, count, prevHash, hash];
      const pad = ' '.repeat(rng.int(this.knobs.padBytesMax));
      const payload = Buffer.from(JSON.stringify(meta) + pad);
      const last = first + count - 1;
      this.log.push({ term: this.term, first, last, count, prevHash, hash, payload });
    }
  }

  /** Sends `s` what it lacks from where its memory first differs (up to 8 entries, or all). */
  send(s: Standby, all = false): void {
    // Hashes are unique and chained: the last entry both hold ends their common prefix.
    let at = Math.min(s.mem.length, this.log.length);
    while (at > 0 && s.mem[at - 1].hash !== this.log[at - 1].hash) at--;
    if (at === this.log.length) return;
    s.receive(at + 1, this.log.slice(at, all ? this.log.length : at + 1 + this.rng.int(8)));
  }

  /** The commit moves to what a majority (the primary and half its standbys) acknowledged. */
  advance(): void {
    const need = Math.floor((this.standbys.length + 1) / 2);
    for (let i = this.log.length; i > this.commit; i--) {
      const have = this.standbys.filter((s) => s.acked[i - 1]?.hash === this.log[i - 1].hash);
      if (have.length >= need) {
        this.commit = i;
        return;
      }
    }
  }

  /** One tick: the driver's acts, then one turn of the event loop for the real code's. */
  async tick(faults: boolean): Promise<void> {
    const k = this.knobs;
    const rng = this.rng;
    this.now++;
    if (faults && rng.chance(k.appendChance)) this.append();
    for (const s of this.standbys) {
      if (s.up && !s.life!.stopped && rng.chance(k.sendChance)) this.send(s);
      s.land();
      if (!faults) continue;
      if (!s.up && rng.chance(k.restartChance)) s.start(k.replayCrashChance);
      else if (s.up && rng.chance(k.crashChance)) s.crash();
      else if (s.up && !s.life!.stopped && rng.chance(k.stopChance)) s.stop();
    }
    await turn();
    for (const s of this.standbys) if (s.failure !== null) throw s.failure;
    this.advance();
  }
}

/** What one scenario did (sim-scenario.ts ScenarioFigures). */
export interface GroupCommitFigures {
  ticks: number;
  healTicks: number;
  acked: number;
  commit: number;
  standbyLog: Record<string, number>;
}

/** Runs the scenario of `seed`; rejects (an assertion) where a check fails. */
export async function groupCommitScenario(
  seed: number,
  knobs: GroupCommitKnobs,
): Promise<GroupCommitFigures> {
  const world = new World(new Rng(seed), knobs);
  const ticks = knobs.ticksMin + world.rng.int(knobs.ticksSpread);
  for (let t = 0; t < ticks; t++) await world.tick(true);
  const healTicks = await heal(world);
  return {
    ticks: ticks + healTicks,
    healTicks,
    acked: world.stats.acks,
    commit: world.commit,
    standbyLog: world.stats,
  };
}

/**
 * Every standby up, caught up, then stopped cleanly right after a last send (its final flush):
 * LMDB then holds the primary's log, which a start's replay (with nothing to replay) keeps.
 */
async function heal(world: World): Promise<number> {
  let t = 0;
  for (; t < 1_000 && world.standbys.some((s) => s.life?.stopped === true); t++) {
    await world.tick(false); // the clean stops under way end
  }
  for (const s of world.standbys) {
    for (let n = 0; n < 100 && !s.up; n++) s.start(world.knobs.replayCrashChance);
    if (!s.up) throw new Error(`standby ${s.id}: no start in 100`);
  }
  const key = (): string => keyOf(world.log);
  const caughtUp = (): boolean => world.standbys.every((s) => keyOf(s.acked) === key());
  for (; t < 2_000 && !caughtUp(); t++) {
    for (const s of world.standbys) world.send(s);
    await world.tick(false);
  }
  if (!caughtUp()) {
    const where = world.standbys.map((s) => s.describe()).join('; ');
    throw new Error(`the standbys do not catch up once the faults heal (log ${key()}: ${where})`);
  }
  world.append();
  for (const s of world.standbys) {
    world.send(s, true);
    if (world.rng.chance(0.5)) s.stop(); // before its flush's turn
  }
  for (let n = 0; n < 1_000 && world.standbys.some((s) => s.up); n++, t++) {
    await world.tick(false);
    for (const s of world.standbys) if (s.up && !s.life!.stopped) s.stop();
  }
  for (const s of world.standbys) {
    if (s.up || !s.start(0)) throw new Error(`standby ${s.id}: no clean stop and start`);
    if (keyOf(s.journal) !== keyOf(world.log))
      throw new Error(`standby ${s.id}: its journal is not the primary's`);
  }
  return t;
}
