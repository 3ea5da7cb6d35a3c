/** What the consensus core (consensus.ts) asks of whatever runs it: a node, or the simulation. */
import { randomInt } from 'node:crypto';
import type { Entry, EntryMeta, Message, Role } from './messages.js';

export interface ConsensusIo {
  send(to: number, message: Message): void;
  /** Store `entries` from log index `index` (1-based), dropping any stored there or after; call
   * `onDurable` once they are on disk. */
  write(index: number, entries: readonly Entry[]): void;
  /**
   * The metadata of a compacted entry (at or before the base: committed and durable here),
   * read back from storage, for a standby far behind or a replica that restarted.
   */
  stored(index: number): EntryMeta;
  /**
   * Entries from `from` on (committed and durable here) leave memory: keep what `stored` needs
   * to find them. Losing this in a crash is safe: the restart keeps more in memory.
   */
  compacted(from: number, entries: readonly EntryMeta[]): void;
  /** The stored bytes of the entry at `index` (to send it). */
  payload(index: number, entry: EntryMeta): Uint8Array;
  /** False for an entry whose bytes do not match its metadata (corrupt or forged): refused. */
  verify(entry: Entry): boolean;
  /** Store the term and vote durably before returning: they guard every vote. */
  saveVote(term: number, votedFor: number): void;
  /**
   * The log was cut after `at`: its entries `at + 1` to `to` (sequences `first` to `last`),
   * never committed, differ from the primary's. A deposed primary's uncommitted tail goes this
   * way: the operator is told what it lost (its clients were never answered for it).
   */
  truncated(at: number, to: number, first: number, last: number): void;
  /** Entries up to `index` are committed. */
  committed(index: number): void;
  roleChanged(role: Role, term: number): void;
  /**
   * Propose an entry of this primary's term now: its term is new, or a standby is recovering
   * and nothing is left to commit (recovery-point.ts). Dropped, the next status asks again.
   */
  openTerm(term: number): void;
  /** A recovering replica caught up: store that (a crash before it must come back recovering). */
  recovered(): void;
  /** The cluster's id is known (its first entry is committed): store it (or find it again). */
  sealed(clusterId: number): void;
  /**
   * A message was dropped: its sender is of another cluster (`clusterId`: the id it or its
   * first entry gives) or lists other members (`members`, a mask: membersMaskOf).
   */
  foreign(from: number, clusterId: number, members: number): void;
  /**
   * Whether the primary may send now `events` more events to a standby a window or more
   * behind its log (catch-up, read back from disk). False defers them to
   * `resumeCatchUp`: a primary serving a wiped member sent windows of old batches for as long
   * as its statuses kept coming, and its event loop stalled 100-270 ms at a time.
   */
  catchUpRoom(events: number): boolean;
}

export interface ConsensusOptions {
  id: number;
  /** Every member's id, this one included. */
  members: readonly number[];
  /** Uniform in [0, 1): only election timeouts use it (seeded in simulation). */
  random: () => number;
  /** True when this replica lost its data (or never had it) and the cluster may hold more. */
  recovering: boolean;
  /** This start of the replica (lifeOf; seeded in simulation): its statuses say it. */
  life: number;
  /** What survived a restart: the stored term and vote, and the durable log after `base`. */
  term: number;
  votedFor: number;
  log: readonly EntryMeta[];
  /** Entries up to this index were compacted (committed; `io.stored` reads them); 0: none. */
  base?: number;
  /** Committed entries kept in memory after a compaction (default `logRetainEntries`). */
  retain?: number;
  /** The cluster's id as stored (0: not known yet). */
  clusterId?: number;
}

/**
 * A number for one start of a replica's process, sent in its statuses and echoed in the appends
 * a primary sends it after reading one (messages.ts, Append.life): drawn at random, nonzero
 * (0 is "none"), so a life that lost its disk tells appends sent to it from ones sent to an
 * earlier life (held by the network past the loss) but by a 2^-32 chance.
 */
export function lifeOf(): number {
  return randomInt(1, 2 ** 32);
}
