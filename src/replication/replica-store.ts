/**
 * A replica's storage for consensus: the LMDB journal (each entry is one journal batch, stored
 * under its first sequence as the journal writer stores it), and in the meta table the term,
 * the vote and whether the replica is recovering. Vote and truncation writes are synchronous
 * transactions, durable when they return (lmdb-js `transactionSync`, overlappingSync off);
 * entries are written with the fsync in LMDB's own thread (writeMany), durable when it resolves.
 *
 * Only entries never committed are ever cut (consensus asserts it): the committed journal is
 * never rewritten. Allocates per batch; the primary's command path does not come here.
 *
 * Log compaction: consensus keeps only recent entries' metadata in memory. For the older ones,
 * the table `log-index` maps a log index (8-byte key) to its batch's first sequence (8 bytes),
 * the journal's key for it: a restart loads the log after the last indexed entry, and a
 * standby far behind is served from the journal.
 */
import type { Database } from 'lmdb';
import { decodeBatch, type BatchView } from '../journal/journal-codec.js';
import { closeJournalDb, keySequence, sequenceKey, writeMeta } from '../journal/journal-db.js';
import type { JournalDb } from '../journal/journal-db.js';
import { journalTail, lastSequenceOf as batchLastSequence } from '../journal/journal-reader.js';
import { readBatches } from '../journal/journal-reader.js';
import { timeIndexKeysFrom } from '../journal/time-index.js';
import { memberBackupRefusal, memberCopyRefusal, wasMember } from '../journal/member-folder.js';
import { noteMemberFile } from '../journal/member-folder.js';
import { genesisHash } from '../journal/journal-codec.js';
import { commitCause, StorageCode, StorageError, writeFailure } from '../journal/journal-errors.js';
import { replicaMetaCacheEntries, replicaPayloadCacheEntries, termMax } from '../constants.js';
import { lastSequenceOf, type Entry, type EntryMeta } from './messages.js';
import { clusterIdOf } from './hashes.js';
import { startAbove } from './replay-window.js';
import type { LogMark } from './standby-log.js';
import { logMarkKey, logMarkOf, markText } from './log-mark.js';

export interface StoredVote {
  term: number;
  votedFor: number;
  recovering: boolean;
  /** Set once this replica has been part of its cluster (see ClusterNode's `bootstrap`). */
  member: boolean;
}

/** The log after its compaction base (ConsensusOptions' `log` and `base`). */
export interface StoredLog {
  base: number;
  log: EntryMeta[];
}

/** A proposed batch held in memory until it is durable here (`hold`, `release`). */
export interface HeldBatch {
  /** Consensus's index of the entry. */
  readonly index: number;
  readonly hash: string;
  /** Its last event sequence. */
  readonly last: number;
  readonly bytes: Uint8Array;
}

/**
 * Refuses a member folder that another member wrote. A copied folder (to seed a new member
 * faster, say) would vote with another member's votes and log as if they were its own: the
 * votes it cast and the entries it acknowledged are lost, as with a lost disk, but nothing
 * would say so. An empty folder is safe: it catches up first. A backup of a member's folder is
 * refused too, its own member's included (member-folder.ts). The member notes its id in a
 * folder that names none once every check of its start passed (ReplicaStore.noteMemberId):
 * noted here, a start refused after (its capacities) left an empty folder that `bourse start`
 * refused ever after as a member's.
 * A copy of the member's own folder is refused too (member-folder.ts memberCopyRefusal), unless
 * `folderMoved` (`--folder-moved`: the operator says the folder it came from never starts
 * again). Returns a line to warn with when moved: the copy taken, or the flag not needed (left
 * set, in a service's environment say, it lets every later copy through).
 * @throws StorageError OTHER_MEMBER, MEMBER_BACKUP, MEMBER_COPY, SINGLE_NODE
 */
export function claimMemberFolder(
  db: JournalDb,
  member: { dataDir: string; id: number; folderMoved?: boolean },
): string | null {
  const { dataDir, id } = member;
  const moved = member.folderMoved === true;
  const backup = memberBackupRefusal(db, dataDir, 'member');
  if (backup !== null) throw backup;
  const owner = db.meta.get('member-id');
  if (owner === undefined && !wasMember(db)) refuseSingleNode(db, dataDir);
  if (owner !== undefined && owner !== String(id)) {
    throw new StorageError(
      StorageCode.OtherMember,
      `${dataDir} holds member ${owner}'s data, not member ${id}'s (copied?): start member ` +
        `${id} on its own folder, or on an empty one, from which it catches up from the others`,
    );
  }
  const copy = memberCopyRefusal(db, dataDir, id);
  if (copy !== null && !moved) throw copy;
  if (!moved) return null;
  return copy !== null
    ? `member ${id}: --folder-moved: ${dataDir} taken as member ${id}'s folder; the folder it ` +
        'came from must never start again'
    : `member ${id}: --folder-moved, but ${dataDir} is member ${id}'s own folder: leave the ` +
        'flag out (while it is given, a copy of the folder is not refused)';
}

/**
 * A folder that never was a member's but holds a journal is a single node's (`bourse start`).
 * A member started on it (to grow the node into a cluster) joined a cluster whose other,
 * empty members elected a primary without it, and that primary's first append cut its whole
 * history: every event the single node had acknowledged, gone. @throws StorageError SINGLE_NODE
 */
function refuseSingleNode(db: JournalDb, dataDir: string): void {
  if (db.journal.getKeys({ limit: 1 })[Symbol.iterator]().next().done === true) return; // empty
  throw new StorageError(
    StorageCode.SingleNode,
    `${dataDir} holds a single node's journal (through sequence ${journalTail(db).sequence}), ` +
      "not a member's: a member cannot start on it (a cluster elected without it would cut " +
      'that history). Start members on empty folders; growing a single node into a cluster ' +
      'is not supported',
  );
}

export class ReplicaStore {
  private readonly logIndex: Database<Buffer, Buffer>;
  /** Compacted entries' first sequences whose `log-index` write has not committed yet. */
  private readonly indexPending = new Map<number, number>();
  /** Compacted entries' metadata read back, by log index, oldest first (bounded: metaAt). */
  private readonly metaRead = new Map<number, EntryMeta>();
  /** The last batches `payload` read, by first sequence, oldest first (bounded). */
  private readonly recent = new Map<number, { hash: string; bytes: Uint8Array }>();
  /**
   * The primary's batches proposed before its own commit made them durable (its writer seals,
   * then commits): kept until they are, whatever `recent` evicts (catch-up reads fill it).
   */
  private readonly held = new Map<number, HeldBatch>();
  /**
   * With a standby log: batches it holds that LMDB does not yet (pipeline/log-applier.ts), by
   * first sequence. Read as LMDB's (metaAt, payload): consensus compacts what is durable, in
   * the log, and reads it back by its first sequence before LMDB may have it.
   */
  private readonly unapplied = new Map<number, Entry>();
  /** Set by `close`: no asynchronous write is queued from then on (see close). */
  private closed = false;

  constructor(readonly db: JournalDb) {
    const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
    this.logIndex = db.root.openDB<Buffer, Buffer>('log-index', binary);
  }

  /** @throws StorageError (JournalCorrupt) when the stored term is not one (0 to termMax). */
  loadVote(): StoredVote {
    const meta = this.db.meta;
    return {
      term: storedTerm(meta.get('term') ?? '0'),
      votedFor: Number(meta.get('votedFor') ?? '-1'),
      recovering: meta.get('recovering') === '1',
      member: wasMember(this.db),
    };
  }

  /**
   * A sequence known committed when last stored (a commit never goes back, so it is a safe
   * lower bound after a restart: a hot standby starts from a snapshot no newer than this).
   */
  loadCommitted(): number {
    return Number(this.db.meta.get('committed') ?? '0');
  }

  /**
   * At a clean stop: stores `sequence` (committed, and held here) when it is past the one
   * stored, which moves only with writes: a standby's snapshot taken at its stop stands at its
   * commit limit, and its next start loads no snapshot past the stored commit. Only a hint for
   * that start: a failed write is returned (to log), not thrown, and the stop goes on.
   */
  keepCommitted(sequence: number): Error | null {
    try {
      if (sequence > this.loadCommitted()) this.db.meta.putSync('committed', String(sequence));
      return null;
    } catch (error) {
      return writeFailure(error as Error, 'the commit, at stop');
    }
  }

  /**
   * The cluster's id as stored (0: not known yet). A folder from before ids were stored whose
   * journal holds a commit takes its first entry's (the first entry is committed before any).
   */
  loadClusterId(): number {
    const stored = this.db.meta.get('cluster-id');
    if (stored !== undefined) return Number(stored);
    if (this.loadCommitted() < 1 || !this.db.journal.doesExist(sequenceKey(1))) return 0;
    return clusterIdOf(this.metaAtSequence(1).hash);
  }

  /** Once, when the first entry is committed (lost in a crash, it is found again then). */
  saveClusterId(id: number): void {
    writeMeta(this.db, 'the cluster id', () => this.db.meta.putSync('cluster-id', String(id)));
  }

  /**
   * Stores `id` as this folder's member's, unless one is (claimMemberFolder checked which), and
   * its journal file as the member's (member-folder.ts noteMemberFile).
   */
  noteMemberId(id: number): void {
    noteMemberFile(this.db);
    if (this.db.meta.get('member-id') !== undefined) return;
    writeMeta(this.db, 'the member id', () => this.db.meta.putSync('member-id', String(id)));
  }

  /** Stores the term and vote; durable when it returns. */
  saveVote(term: number, votedFor: number): void {
    writeMeta(this.db, `the vote (term ${term})`, () =>
      this.db.meta.transactionSync(() => {
        this.db.meta.putSync('term', String(term));
        this.db.meta.putSync('votedFor', String(votedFor));
        this.db.meta.putSync('member', '1');
      }),
    );
  }

  /**
   * A start for this run's replication transport, above every earlier run's, stored before it
   * is used: the other members refuse datagrams of a run before one they heard
   * (replay-window.ts), and a start from the clock alone, set back across a restart, would
   * leave this member unheard until its clock caught up. `floor`: the start in use, for a run
   * whose message ids ran out (UdpTransport.renewStart).
   */
  nextTransportStart(floor = 0, nowMs = Date.now()): number {
    const stored = Number(this.db.meta.get('transport-start') ?? '0');
    const start = startAbove(Math.max(stored, floor), nowMs);
    writeMeta(this.db, 'the transport start', () =>
      this.db.meta.putSync('transport-start', String(start)),
    );
    return start;
  }

  /**
   * The newest transport start heard of each other member, by id, as stored by notePeerStart:
   * after a restart the transport takes none of those runs (replay-window.ts remember). Before,
   * a restarted member remembered no one's run, and took datagrams recorded before its restart.
   */
  peerStarts(members: readonly number[]): Map<number, number> {
    const starts = new Map<number, number>();
    for (const id of members) {
      const start = Number(this.db.meta.get(`peer-start-${id}`) ?? '0');
      if (Number.isFinite(start) && start > 0) starts.set(id, start);
    }
    return starts;
  }

  /** Member `id` began run `start` (stored before any of its datagrams is taken). */
  notePeerStart(id: number, start: number): void {
    const key = `peer-start-${id}`;
    if (start <= Number(this.db.meta.get(key) ?? '0')) return;
    writeMeta(this.db, 'a member start', () => this.db.meta.putSync(key, String(start)));
  }

  setRecovering(recovering: boolean): void {
    writeMeta(this.db, 'the recovering flag', () =>
      this.db.meta.transactionSync(() => {
        this.db.meta.putSync('recovering', recovering ? '1' : '0');
        this.db.meta.putSync('member', '1');
      }),
    );
  }

  /**
   * The metadata of every stored batch after the last compacted one, in order, chained onto
   * it (the links are checked; `bourse verify` and recovery check each hash).
   */
  loadLog(): StoredLog {
    let base = 0;
    let start = sequenceKey(0);
    let prevHash: Uint8Array = genesisHash;
    for (const { key, value } of this.logIndex.getRange({ reverse: true, limit: 1 })) {
      base = keySequence(key);
      const last = this.metaAtSequence(keySequence(value));
      start = sequenceKey(lastSequenceOf(last) + 1);
      prevHash = Buffer.from(last.hash, 'hex');
    }
    const log: EntryMeta[] = [];
    const keep = (view: BatchView): boolean => {
      log.push(entryMetaOf(view));
      return true;
    };
    readBatches(this.db, start, prevHash, keep, false);
    return { base, log };
  }

  /**
   * Closes the storage once the writes queued on it are done. The member stops what writes
   * first (ClusterNode.stop); a late asynchronous write is not made all the same (lmdb-js
   * threw it uncaught, see closeJournalDb): a log-index note is dropped (a restart reads those
   * entries from the journal), and `writeMany` rejects, to its caller.
   */
  async close(): Promise<void> {
    this.closed = true;
    await closeJournalDb(this.db);
  }

  /** Notes where compacted entries are, in one asynchronous transaction. */
  saveIndex(from: number, entries: readonly EntryMeta[]): void {
    for (let k = 0; k < entries.length; k++) this.indexPending.set(from + k, entries[k].first);
    if (this.closed) return; // a restart loads these entries from the journal instead
    const write = this.logIndex.transaction(() => {
      for (let k = 0; k < entries.length; k++) {
        this.logIndex.putSync(sequenceKey(from + k), sequenceKey(entries[k].first));
      }
    });
    // Until it commits, reads come from `indexPending`; if it fails (the disk under the
    // journal failing too), they keep coming from there.
    // A failed commit's cause is in a promise of its own that ends the process unless read
    // (commitCause): read, and dropped; the journal's own writes report the disk.
    write.then(
      () => {
        for (let k = 0; k < entries.length; k++) this.indexPending.delete(from + k);
      },
      (error: unknown) => void commitCause(error),
    );
  }

  /**
   * The metadata of the compacted entry at log index `index`. @throws when it is missing.
   * Serving a standby far behind asks for each entry several times (the window's size, the
   * append's, the previous hash, the entry), and each read decoded its whole batch from a copy:
   * 20-28 ms per append for a wiped member's catch-up, and event-loop stalls of 100-270 ms on
   * the primary. Compacted entries are committed and never change: the last ones are kept.
   */
  metaAt(index: number): EntryMeta {
    const cached = this.metaRead.get(index);
    if (cached !== undefined) return cached;
    let first = this.indexPending.get(index);
    if (first === undefined) {
      const value = this.logIndex.getBinary(sequenceKey(index));
      if (value === undefined) throw new Error(`replica store: log index ${index} not noted`);
      first = keySequence(value);
    }
    const meta = this.metaAtSequence(first);
    if (this.metaRead.size >= replicaMetaCacheEntries) {
      this.metaRead.delete(this.metaRead.keys().next().value as number); // the oldest read
    }
    this.metaRead.set(index, meta);
    return meta;
  }

  /** The standby log holds `writes`, which LMDB will take (in order): read them from here. */
  noteUnapplied(writes: readonly (readonly Entry[])[]): void {
    for (const entries of writes) for (const e of entries) this.unapplied.set(e.first, e);
  }

  /** LMDB holds `writes` now (those replaced since by a later group stay, until it is). */
  dropApplied(writes: readonly (readonly Entry[])[]): void {
    for (const entries of writes) {
      for (const e of entries)
        if (this.unapplied.get(e.first) === e) this.unapplied.delete(e.first);
    }
  }

  /** Decoded in lmdb-js's read buffer, not a copy: nothing of it is kept but the metadata. */
  private metaAtSequence(first: number): EntryMeta {
    const logged = this.unapplied.get(first);
    if (logged !== undefined) return logged;
    const bytes = this.db.journal.getBinaryFast(sequenceKey(first));
    if (bytes === undefined) throw new Error(`replica store: no batch at ${first}`);
    const view = decodeBatch(bytes, false);
    if (typeof view === 'string') throw new Error(`replica store: batch at ${first}: ${view}`);
    return entryMetaOf(view);
  }

  /**
   * The stored bytes of a batch. The last few read are kept (by first sequence and hash): the
   * primary sends each entry to every standby, and a read is a copy out of LMDB (two reads
   * and two copies per entry showed in its profile; with them, its packing, codec.ts).
   * A batch made durable since this thread's LMDB read snapshot began (lmdb-js renews it on a
   * timer) is read again from a fresh one.
   * @throws when it is missing (storage lost under us).
   */
  payload(entry: EntryMeta): Uint8Array {
    const held = this.held.get(entry.first);
    if (held !== undefined && held.hash === entry.hash) return held.bytes;
    const hit = this.recent.get(entry.first);
    if (hit !== undefined && hit.hash === entry.hash) return hit.bytes;
    const logged = this.unapplied.get(entry.first);
    if (logged !== undefined && logged.hash === entry.hash) return logged.payload;
    let bytes = this.copyOf(entry.first);
    if (bytes === undefined) {
      this.db.root.resetReadTxn();
      bytes = this.copyOf(entry.first);
    }
    if (bytes === undefined) throw new Error(`replica store: no batch at ${entry.first}`);
    this.remember({ ...entry, payload: bytes });
    return bytes;
  }

  /**
   * A copy of the stored batch at sequence `first`, of its own (it is kept: sent and resent
   * from), or undefined when none is visible to this read. Copied out of lmdb-js's read buffer,
   * which its next read reuses, into one not zeroed first (getBinary zeroed its copy: a memset
   * of every batch, 3% of a loaded primary's main thread).
   */
  copyOf(first: number): Buffer | undefined {
    const read = this.db.journal.getBinaryFast(sequenceKey(first));
    if (read === undefined) return undefined;
    // Its `length` is the value's; the array under it may be longer: copy that many.
    const copy = Buffer.allocUnsafeSlow(read.length);
    copy.set(read.subarray(0, read.length));
    return copy;
  }

  /** Keeps an entry's bytes for `payload` (the primary, as it proposes a batch it read). */
  remember(entry: Entry): void {
    this.recent.set(entry.first, { hash: entry.hash, bytes: entry.payload });
    if (this.recent.size > replicaPayloadCacheEntries) {
      this.recent.delete(this.recent.keys().next().value as number); // the oldest
    }
  }

  /**
   * Keeps a proposed batch, consensus's entry `index`, that is not durable here yet, until
   * `release` passes its end.
   */
  hold(entry: Entry, index: number): void {
    const held = { index, hash: entry.hash, last: entry.last, bytes: entry.payload };
    this.held.set(entry.first, held);
  }

  /**
   * Lets go of held batches that end at or before `durable`, and returns the last of them (in
   * the order held: proposal order), the entry consensus may now count durable here; or null.
   */
  release(durable: number): HeldBatch | null {
    let last: HeldBatch | null = null;
    for (const [first, h] of this.held) {
      if (h.last > durable) continue;
      this.held.delete(first);
      last = h;
    }
    return last;
  }

  /**
   * Removes every batch after `sequence` (a deposed primary's batches never proposed), and says
   * how many it removed and the last sequence they held (null: none), for its log.
   */
  truncateAfter(sequence: number): { batches: number; last: number } | null {
    this.recent.clear();
    this.held.clear();
    const journal = this.db.journal;
    let cut: { batches: number; last: number } | null = null;
    // On a failing disk: a storage error (exit 74, retried by the supervisor), not lmdb's own.
    writeMeta(this.db, `the journal's cut after sequence ${sequence}`, () =>
      journal.transactionSync(() => {
        const stale = [...journal.getKeys({ start: sequenceKey(sequence + 1) })];
        if (stale.length === 0) return;
        const key = stale[stale.length - 1];
        const tail = journal.getBinary(key);
        const view = tail === undefined ? 'absent' : decodeBatch(tail, false);
        // A batch that does not decode is cut all the same: its key is its first sequence.
        const last = typeof view === 'string' ? keySequence(key) : batchLastSequence(view);
        cut = { batches: stale.length, last };
        for (const key of stale) journal.removeSync(key);
        for (const key of timeIndexKeysFrom(this.db, sequence + 1))
          this.db.timeIndex.removeSync(key);
      }),
    );
    return cut;
  }

  /** True when the bytes decode, hash to `hash`, and say what the metadata says. */
  verify(entry: Entry): boolean {
    const view = decodeBatch(entry.payload, true);
    if (typeof view === 'string') return false;
    return (
      view.term === entry.term &&
      view.firstSequence === entry.first &&
      view.count === entry.count &&
      view.count > 0 &&
      batchLastSequence(view) === entry.last &&
      Buffer.from(view.hash).toString('hex') === entry.hash &&
      Buffer.from(view.prevHash).toString('hex') === entry.prevHash
    );
  }

  /**
   * Stores each write's entries in order, first cutting every stored batch from its first
   * entry's sequence on (an uncommitted tail that differs from the primary's), and `committed`
   * (loadCommitted), in one transaction. The removes and puts are queued to LMDB's own write
   * thread in that order and committed there with their fsync, so the caller's thread (a
   * standby's event loop, which must keep reading heartbeats) only queues them. Durable when
   * the promise resolves (overlappingSync is off, so a commit includes its fsync; the wait on
   * `flushed` says so). (An asynchronous `transaction()` ran its callback in this thread while
   * the write thread waited: two event-loop round trips, ~2 ms of a standby's ~5 ms write on an
   * idle cluster.) They go as one `batch()`: queued one by one (eventTurnBatching is off), LMDB
   * began a transaction at the 6th and put the rest in another, so a group of 8 or more entries
   * took two or three commits and fsyncs, one after the other. The commit mark after it begins
   * the write at once, in the same transaction (see below).
   */
  async writeMany(
    writes: readonly (readonly Entry[])[],
    committed: number,
    mark: LogMark | null = null,
  ): Promise<void> {
    // Never resolved unwritten: that would say durable what is not (so acknowledge it).
    if (this.closed) throw new Error('replica store: closed (the member stopped)');
    try {
      const written = this.db.root.batch(() => {
        this.queueWrites(writes);
        if (mark !== null) void this.db.meta.put(logMarkKey, markText(mark));
      });
      // The commit mark goes last, outside the batch: lmdb-js puts it in the batch's
      // transaction (nothing has begun it) and, past txnStartThreshold (1), begins the write on
      // its thread now, in this call. Inside, the write waited for a setImmediate of lmdb-js's;
      // the group commit flushes in one (its turn's end), so that one ran a turn of the loop
      // later (a loaded standby, load 15: p50 0.4 ms, p90 9-14 ms). Both promises are awaited:
      // a failed commit rejects each, and one left unread would end the process.
      const marked = this.db.meta.put('committed', String(committed));
      await Promise.all([written, marked]);
      await this.db.root.flushed;
    } catch (error) {
      throw await commitCause(error); // errno and all (a full disk: see GroupCommit.flush)
    }
  }

  /**
   * Where the standby log's records not in LMDB begin (standby-log.ts): moved by the writes
   * that take them, in the same transaction. Record 1 at 0 when none was ever taken.
   */
  logMark(): LogMark {
    return logMarkOf(this.db);
  }

  /**
   * A standby log record's groups, stored as writeMany would and the mark moved past it, in
   * one synchronous transaction (a start's replay: durable when it returns).
   */
  writeSync(writes: readonly (readonly Entry[])[], committed: number, mark: LogMark): void {
    const journal = this.db.journal;
    writeMeta(this.db, 'the standby log, into the journal', () =>
      journal.transactionSync(() => {
        for (const entries of writes) {
          if (entries.length === 0) continue;
          const from = entries[0].first;
          for (const key of [...journal.getKeys({ start: sequenceKey(from) })])
            journal.removeSync(key);
          for (const key of timeIndexKeysFrom(this.db, from)) this.db.timeIndex.removeSync(key);
          for (const e of entries) journal.putSync(sequenceKey(e.first), Buffer.from(e.payload));
        }
        if (committed > this.loadCommitted()) this.db.meta.putSync('committed', String(committed));
        this.db.meta.putSync(logMarkKey, markText(mark));
      }),
    );
  }

  /** writeMany's removes and puts, in order (inside its batch: they commit together). */
  private queueWrites(writes: readonly (readonly Entry[])[]): void {
    const journal = this.db.journal;
    const queued: number[] = []; // first sequences put by this call, ascending
    for (const entries of writes) {
      if (entries.length === 0) continue;
      const from = entries[0].first;
      let cut = false;
      for (const key of journal.getKeys({ start: sequenceKey(from) })) {
        void journal.remove(key);
        cut = true;
      }
      // Batches this member journaled as primary have time index entries: cut them too.
      if (cut)
        for (const key of timeIndexKeysFrom(this.db, from)) void this.db.timeIndex.remove(key);
      while (queued.length > 0 && queued[queued.length - 1] >= from) {
        void journal.remove(sequenceKey(queued.pop() as number)); // queued, not stored
      }
      // LMDB keeps a reference to each payload until it is written: they are the decoder's own
      // (codec.ts makes a fresh array for each, never written again), so a view, not a copy.
      for (const e of entries) {
        const p = e.payload;
        void journal.put(sequenceKey(e.first), Buffer.from(p.buffer, p.byteOffset, p.length));
        queued.push(e.first);
      }
    }
  }
}

/** The term stored as `text`; a damaged one (not 0 to termMax) stops the start. */
function storedTerm(text: string): number {
  const term = Number(text);
  if (Number.isSafeInteger(term) && term >= 0 && term <= termMax) return term;
  const said = `the stored consensus term (meta 'term') is ${JSON.stringify(text)}`;
  throw new StorageError(StorageCode.JournalCorrupt, `${said}, not a term from 0 to ${termMax}`);
}

/** What consensus keeps of a decoded journal batch. */
export function entryMetaOf(view: BatchView): EntryMeta {
  return {
    term: view.term,
    first: view.firstSequence,
    last: batchLastSequence(view),
    count: view.count,
    prevHash: Buffer.from(view.prevHash).toString('hex'),
    hash: Buffer.from(view.hash).toString('hex'),
  };
}
