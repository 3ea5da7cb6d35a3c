/**
 * Idempotency: a command is applied once, however often it is retried.
 *
 * Every command carries (clientId, clientSeq), and a client's sequence numbers only go up (they
 * may skip). Per client the engine keeps a high-water mark (the highest clientSeq decided) and a
 * ring of its last `idempotencyWindow` new commands' outcomes, in the order they were decided,
 * so their clientSeqs ascend from the oldest entry round to the newest:
 *
 *   clientSeq > hwm                              new command
 *   clientSeq <= hwm, the ring holds it          duplicate: answer with the recorded outcome,
 *                                                if it is the same command (fingerprint.ts);
 *                                                another command reusing the seq: refused
 *   oldest in the ring < clientSeq <= hwm        never decided, arrived late: out of order
 *   clientSeq < oldest in a full ring            too old to know: the client must query
 *
 * The ring is indexed by arrival, not by `clientSeq % window`: with seqs far apart (a client
 * that skips numbers) the window still holds the last `window` commands, as PROTOCOL.md says.
 * A lookup below the high-water mark (a resend: rare) is a binary search of the ring.
 *
 * The table holds clientCountMax customers' ids, and beside them the node's own
 * (nodeClientIdCount, protocol/client-ids.ts), counted apart: the node's commands (expiry
 * Ticks, cancel-on-disconnect rounds, a term's Tick) are never refused TableFull, and they take
 * no customer's slot. They keep their idempotency (a round resent under its seq is a repeat,
 * the gateway numbers rounds above the id's high-water mark), so they are recorded like any.
 * Which ids may take a slot depends on the id and the table only: every replica, replaying the
 * same events, fills the same slots.
 *
 * Memory is (clientCountMax + nodeClientIdCount) * window entries, fixed; nothing grows with
 * the number of commands.
 *
 * The state checksum covers the high-water mark and each remembered fingerprint (a field per
 * (client, clientSeq), added when recorded and taken out when the ring forgets it), so a
 * replica that remembered another command under a seq does not compare equal.
 */
import { assert as assertImport, assertRoom as assertRoomImport } from '../stdx/assert.js';
import { U53Map } from '../stdx/u53-map.js';
import {
  clientSlotCacheSize as clientSlotCacheSizeImport,
  nodeClientIdCount as nodeClientIdCountImport,
  verify as verifyImport,
  type EngineConfig,
} from '../constants.js';
import { isNodeClientId as isNodeClientIdImport } from '../protocol/client-ids.js';
import {
  ChecksumEntity,
  entityKeyA as entityKeyAImport,
  entityKeyB as entityKeyBImport,
  fieldKey as fieldKeyImport,
  highWord as highWordImport,
  laneTerm as laneTermImport,
  StateChecksum,
} from './checksum.js';
import { pushUsed, type StateImage } from '../stdx/state-image.js';
import { hashU53 as hashU53Import, hashU53Words as hashU53WordsImport } from '../stdx/hash.js';
import {
  readU64 as readU64Import,
  recordWordsMax as recordWordsMaxImport,
} from '../stdx/records.js';
import { EventWord, fingerprintWord as fingerprintWordImport } from '../protocol/event-layout.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;
const assertRoom: typeof assertRoomImport = assertRoomImport;
const nodeClientIdCount: typeof nodeClientIdCountImport = nodeClientIdCountImport;
const clientSlotCacheSize: typeof clientSlotCacheSizeImport = clientSlotCacheSizeImport;
const verify: typeof verifyImport = verifyImport;
const isNodeClientId: typeof isNodeClientIdImport = isNodeClientIdImport;
const entityKeyA: typeof entityKeyAImport = entityKeyAImport;
const entityKeyB: typeof entityKeyBImport = entityKeyBImport;
const fieldKey: typeof fieldKeyImport = fieldKeyImport;
const highWord: typeof highWordImport = highWordImport;
const laneTerm: typeof laneTermImport = laneTermImport;
const hashU53: typeof hashU53Import = hashU53Import;
const hashU53Words: typeof hashU53WordsImport = hashU53WordsImport;
const readU64: typeof readU64Import = readU64Import;
const recordWordsMax: typeof recordWordsMaxImport = recordWordsMaxImport;
const fingerprintWord: typeof fingerprintWordImport = fingerprintWordImport;

export const enum Idempotency {
  New = 0,
  Duplicate = 1,
  OutOfOrder = 2,
  TooOld = 3,
  /** A new client, and the client table is full. */
  TableFull = 4,
  /** The seq is in the ring, recorded for a different command (another fingerprint). */
  Reused = 5,
}

const fieldHighWaterMark = 0;
/**
 * The checksum field of a client's cancel-on-disconnect mark: above every fingerprint field
 * (1 + a 31-bit hash), so that none can share it.
 */
export const fieldCovered = 0x8000_0001;
const outcomeKindUnit = 65_536;
/** Doubles per ring entry: clientSeq, engine sequence, outcome, fingerprint. */
const entryWords = 4;

/** The status of a recorded outcome. */
export function recordedStatus(outcome: number): number {
  return outcome % outcomeKindUnit;
}

/** The command kind of a recorded outcome (0 in snapshots made before it was kept). */
export function recordedKind(outcome: number): number {
  return Math.floor(outcome / outcomeKindUnit);
}

/**
 * The checksum field number of the fingerprint recorded for `clientSeq`: 1 and up (field 0 is
 * the high-water mark), from the seq, so that replicas agree whatever their ring positions.
 */
export function fingerprintField(clientSeq: number): number {
  return 1 + (hashU53(clientSeq) >>> 1);
}

/**
 * A fingerprint's term in a lane under field key `k` (checksum.ts's laneTerm). A fingerprint is
 * an int32: its high word is its sign.
 */
function fingerprintTerm(k: number, fingerprint: number): number {
  return laneTerm(k, fingerprint | 0, fingerprint >> 31);
}

// Called by record through a module constant: inside its own module, an exported function is
// read through its cell all the same (~4 instructions a call; engine.ts says more).
const fingerprintFieldOf: typeof fingerprintField = fingerprintField;
const fingerprintTermOf: typeof fingerprintTerm = fingerprintTerm;

export class Clients {
  readonly map: U53Map;
  readonly ids: Float64Array;
  readonly highWaterMark: Float64Array;
  /** Per client slot: how many new commands it has recorded (the ring's write position). */
  readonly recorded: Float64Array;
  /**
   * The rings, four doubles per entry (two to a cache line): the clientSeq recorded there, the
   * engine sequence of that command (so a duplicate can point at its events), its outcome:
   * status + command kind * 65536 (`recordedStatus`, `recordedKind`), and its fingerprint
   * (fingerprint.ts, as an int32; 0: not known, recorded from an event written before
   * fingerprints were kept). A client's k-th record (from 0) is the entry that starts at
   * 4 * (slot * window + k % window).
   */
  readonly entries: Float64Array;
  /**
   * Per entry of `entries`, the two lane terms its fingerprint added to the checksum (at
   * 2 * (slot * window + k % window)): a full ring's oldest entry takes them out again when it
   * is replaced, where recomputing them (the seq's field hash, two field keys, four multiplies)
   * cost ~45 instructions a command. Derived from `entries`: not in the image, rebuilt on load.
   */
  private readonly terms: Int32Array;
  /**
   * Per client slot: 1 while the client has a cancel-on-disconnect session, as the node's
   * SetCancelOnDisconnect commands said (cancel-cover.ts). A new primary reads it to know whose
   * orders to cancel when such a client does not come back after a failover.
   */
  readonly covered: Float64Array;
  readonly window: number;
  /** Customers' ids the table holds (config.clientCountMax). */
  readonly countMax: number;
  /** Slots: customers' and the node's own ids. */
  readonly slotCountMax: number;
  /** Slots in use, handed out from 0 up and never freed: customers' and the node's. */
  count = 0;
  /** Of those, the node's own ids (at most nodeClientIdCount). */
  nodeCount = 0;
  /** Where `check` found a duplicate: the index of its entry in `entries`. */
  foundIndex = -1;
  /** Checksum keys per client slot, computed once. */
  private readonly keyA: Int32Array;
  private readonly keyB: Int32Array;
  /**
   * The last client looked up: decide and then apply look the same client up for a command,
   * and commands come in runs from one client, so this mostly hits.
   */
  private lastId = 0;
  private lastSlot = -1;
  /**
   * Recent clients, by an id's low bits (clientSlotCacheSize entries): `recent[2 * i]` is an
   * id, `recent[2 * i + 1]` its slot. Where `lastId` misses, clients taking turns (bench:engine
   * rotates eight) are found here, not probed in `map` (a hash, a block and a probe: ~60
   * instructions a command). An empty entry holds id 0 and slot -1, as a miss would return:
   * id 0 is never in the table. Derived from `map`, whose slots never change: not in the image,
   * emptied when a state is loaded.
   */
  private readonly recent = new Float64Array(clientSlotCacheSize * 2);
  private readonly checksum: StateChecksum;
  /** `checksum.lanes`, which `record` adds to. */
  private readonly lanes: Int32Array;

  constructor(config: EngineConfig, checksum: StateChecksum) {
    const slots = config.clientCountMax + nodeClientIdCount;
    this.countMax = config.clientCountMax;
    this.slotCountMax = slots;
    this.window = config.idempotencyWindow;
    this.map = new U53Map(slots);
    this.ids = new Float64Array(slots);
    this.highWaterMark = new Float64Array(slots);
    this.recorded = new Float64Array(slots);
    assert(
      slots * config.idempotencyWindow * entryWords <= 0x7fffffff,
      'idempotency: entry indexes are int32',
    );
    this.entries = new Float64Array(slots * config.idempotencyWindow * entryWords);
    this.terms = new Int32Array(slots * config.idempotencyWindow * 2);
    this.covered = new Float64Array(slots);
    this.keyA = new Int32Array(slots);
    this.keyB = new Int32Array(slots);
    this.checksum = checksum;
    this.lanes = checksum.lanes;
    this.forgetRecent();
  }

  /** Customers' ids in the table (capacity-use.ts shows this against clientCountMax). */
  customerCount(): number {
    return this.count - this.nodeCount;
  }

  /** Whether a new client `clientId` finds no room: only a customer's, once they fill theirs. */
  private full(clientId: number): boolean {
    return this.customerCount() >= this.countMax && !isNodeClientId(clientId);
  }

  /** The slot of client `clientId`, or -1. */
  slotOf(clientId: number): number {
    if (clientId === this.lastId) return this.lastSlot;
    // Client ids are a command's uint32 word: `&` takes their low bits without a conversion.
    const at = (clientId & (clientSlotCacheSize - 1)) << 1;
    if (this.recent[at] !== clientId) return this.slotMissed(clientId, at);
    const slot = this.recent[at | 1] | 0;
    this.lastId = clientId;
    this.lastSlot = slot;
    return slot;
  }

  /** `slotOf` past the cache: the table's lookup, kept in `recent[at]` when found. */
  private slotMissed(clientId: number, at: number): number {
    const slot = this.map.get(clientId);
    if (slot !== -1) {
      assert(this.ids[slot] === clientId, 'idempotency: a found slot holds its id');
      this.recent[at] = clientId;
      this.recent[at | 1] = slot;
      this.lastId = clientId;
      this.lastSlot = slot;
    }
    return slot;
  }

  /** Empties `recent` and `lastId` (a state is loaded: other ids, other slots). */
  private forgetRecent(): void {
    for (let i = 0; i < clientSlotCacheSize; i++) {
      this.recent[i << 1] = 0;
      this.recent[(i << 1) | 1] = -1;
    }
    this.lastId = 0;
    this.lastSlot = -1;
  }

  /**
   * The slot of client `clientId`, taken now if it has none (apply side: an order records the
   * slot of the client that placed it). On the primary an order rests before its command's
   * outcome is recorded, and a new client gets its slot here; a replica records the head first
   * (Applier.apply) and finds the slot taken. Either way slots go in the order clients first
   * appear in the events, so every replica gives each client the same slot.
   */
  slotFor(clientId: number): number {
    const slot = this.slotOf(clientId);
    return slot !== -1 ? slot : this.create(clientId);
  }

  /**
   * Classifies (clientId, clientSeq) against the recorded state. `floor` is the highest
   * clientSeq already taken by earlier members of the same linked chain (0 outside a chain).
   * `fingerprint` is the command's (commandFingerprint): a recorded seq is a Duplicate only
   * when the entry's fingerprint is the same or not known, Reused otherwise. Sets `foundIndex`
   * for either.
   */
  check(clientId: number, clientSeq: number, floor: number, fingerprint: number): Idempotency {
    const slot = this.slotOf(clientId);
    if (slot === -1) {
      if (this.full(clientId)) return Idempotency.TableFull;
      return clientSeq > floor ? Idempotency.New : Idempotency.OutOfOrder;
    }
    const hwm = this.highWaterMark[slot];
    if (clientSeq > hwm) return clientSeq > floor ? Idempotency.New : Idempotency.OutOfOrder;
    const cls = this.find(slot, clientSeq);
    if (cls !== Idempotency.Duplicate) return cls;
    const known = this.entries[this.foundIndex + 3];
    return known === 0 || known === fingerprint ? Idempotency.Duplicate : Idempotency.Reused;
  }

  /**
   * Looks `clientSeq` (at most the high-water mark) up in the ring of client `slot`: a binary
   * search over its entries in the order they were recorded, oldest first.
   */
  private find(slot: number, clientSeq: number): Idempotency {
    const window = this.window;
    const recorded = this.recorded[slot];
    const count = recorded < window ? recorded : window;
    const oldest = recorded < window ? 0 : recorded % window;
    const base = slot * window;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = (base + ((oldest + mid) & (window - 1))) * entryWords;
      if (this.entries[at] < clientSeq) lo = mid + 1;
      else hi = mid;
    }
    const index = (base + ((oldest + lo) & (window - 1))) * entryWords;
    if (lo < count && this.entries[index] === clientSeq) {
      this.foundIndex = index;
      return Idempotency.Duplicate;
    }
    // Every command decided since the oldest entry is in the ring: a seq above it was never
    // decided. Below it, only a ring that has wrapped can have forgotten it.
    return lo > 0 || recorded <= window ? Idempotency.OutOfOrder : Idempotency.TooOld;
  }

  /** The recorded engine sequence of the duplicate `check` found. */
  foundSequence(): number {
    return this.entries[this.foundIndex + 1];
  }

  /** The recorded outcome (status and kind) of the duplicate `check` found. */
  foundOutcome(): number {
    return this.entries[this.foundIndex + 2];
  }

  /**
   * Records the outcome of a new command from its head event at word `e` of `u32` (apply side):
   * its client, clientSeq, engine sequence, status and command kind, and the fingerprint the
   * head carries (an int32; 0 in events written before heads carried it: not known). The
   * event is read here: a u64 or a uint32 passed to a call that is not inlined (this one may
   * not be) would be boxed as a heap number, and the engine must not allocate.
   */
  record(u32: Uint32Array, at: number): void {
    // Masked below recordWordsMax, changing nothing (order-apply.ts says why).
    const e = at & (recordWordsMax - 1);
    const kindStatus = u32[e + EventWord.kindStatus];
    const clientId = u32[e + EventWord.clientId];
    // The seq's words, as the head holds them: its checksum terms take them from here, not
    // back from the double (fingerprintField, highWord): 5 instructions a command less. The
    // high word is below 2^21 (clientSeqStatus), so the double is exact and the same.
    const seqLo = u32[e + EventWord.clientSeq];
    const seqHi = u32[e + EventWord.clientSeq + 1];
    const clientSeq = seqHi * 4294967296 + seqLo;
    const sequence = readU64(u32, e + EventWord.sequence);
    const fingerprint = u32[e + fingerprintWord(kindStatus & 0xff)] | 0;
    let slot = this.slotOf(clientId);
    if (slot === -1) slot = this.create(clientId);
    const before = this.highWaterMark[slot];
    assert(clientSeq > before, 'idempotency: recorded seq goes up');
    // The record's changes enter the checksum as one update of its lanes, not three.
    const a = this.keyA[slot];
    const b = this.keyB[slot];
    this.highWaterMark[slot] = clientSeq;
    const lo = ((seqLo | 0) - (before | 0)) | 0;
    const hi = ((seqHi | 0) - highWord(before)) | 0;
    let termA = laneTerm(fieldKey(a, fieldHighWaterMark), lo, hi);
    let termB = laneTerm(fieldKey(b, fieldHighWaterMark), lo, hi);
    const k = this.recorded[slot];
    this.recorded[slot] = k + 1;
    const index = this.entryIndex(slot, k);
    const entries = this.entries;
    const terms = this.terms;
    const t = index >>> 1; // its terms: two an entry, where entries has four
    // The entry this one replaces (a full ring's oldest) leaves the checksum with the ring.
    if (k >= this.window) {
      if (verify) this.assertTerms(slot, index);
      termA = (termA - terms[t]) | 0;
      termB = (termB - terms[(t + 1) | 0]) | 0;
    }
    // `(index + k) | 0`: an int32 add, no overflow check and jump (records.ts); every index of
    // `entries` is below 2^31 (the constructor asserts it).
    entries[index] = clientSeq;
    entries[(index + 1) | 0] = sequence;
    // Status + command kind * 65536 (recordedStatus, recordedKind).
    entries[(index + 2) | 0] = (kindStatus >>> 16) + ((kindStatus >>> 8) & 0xff) * outcomeKindUnit;
    entries[(index + 3) | 0] = fingerprint;
    const field = 1 + (hashU53Words(seqLo, seqHi) >>> 1); // fingerprintField(clientSeq)
    const addA = fingerprintTermOf(fieldKey(a, field), fingerprint);
    const addB = fingerprintTermOf(fieldKey(b, field), fingerprint);
    terms[t] = addA;
    terms[(t + 1) | 0] = addB;
    // The lanes themselves, as StateChecksum.addLanes adds: through `this.checksum` it cost
    // its load and map check (3 instructions a command).
    const lanes = this.lanes;
    lanes[0] = (lanes[0] + termA + addA) | 0;
    lanes[1] = (lanes[1] + termB + addB) | 0;
  }

  /** The lane terms of the entry at `index` (of client `slot`), from the entry itself. */
  private entryTerms(slot: number, index: number): void {
    const field = fingerprintFieldOf(this.entries[index]);
    const fingerprint = this.entries[index + 3];
    this.terms[index >>> 1] = fingerprintTerm(fieldKey(this.keyA[slot], field), fingerprint);
    this.terms[(index >>> 1) + 1] = fingerprintTerm(fieldKey(this.keyB[slot], field), fingerprint);
  }

  /** Verify only: the cached terms of the entry at `index` are its own (the paired check). */
  private assertTerms(slot: number, index: number): void {
    const cachedA = this.terms[index >>> 1];
    const cachedB = this.terms[(index >>> 1) + 1];
    this.entryTerms(slot, index);
    assert(this.terms[index >>> 1] === cachedA, "idempotency: cached term A is the entry's");
    assert(this.terms[(index >>> 1) + 1] === cachedB, "idempotency: cached term B is the entry's");
  }

  /** Marks client `slot` as having a cancel-on-disconnect session (1) or not (0). */
  setCovered(slot: number, covered: number): void {
    assert(slot >= 0 && slot < this.count, 'idempotency: a covered client has a slot');
    assert(covered === 0 || covered === 1, 'idempotency: covered is 0 or 1');
    this.checksum.staged[0] = covered;
    this.checksum.write(this.keyA[slot], this.keyB[slot], fieldCovered, this.covered, slot);
  }

  /** Whether a new client `clientId` would find the table full (cancel-cover.ts). */
  wouldBeFull(clientId: number): boolean {
    return this.slotOf(clientId) === -1 && this.full(clientId);
  }

  /** The index in `entries` of client `slot`'s k-th record (from 0). */
  entryIndex(slot: number, k: number): number {
    // k % window, for a window that is a power of two (assertEngineConfig) and k a safe
    // integer: its low bits. On a double, % is a call to fmod (x87 fprem, ~30 instructions).
    return (slot * this.window + ((k >>> 0) & (this.window - 1))) * entryWords;
  }

  private create(clientId: number): number {
    // A replica meets a full table only if its primary had more room (capacities).
    assertRoom(!this.full(clientId), 'idempotency: client table full');
    if (isNodeClientId(clientId)) this.nodeCount++;
    assert(this.nodeCount <= nodeClientIdCount, 'idempotency: the node has nodeClientIdCount ids');
    assert(this.count < this.slotCountMax, 'idempotency: a slot for every id allowed in');
    const slot = this.count++;
    this.map.insert(clientId, slot);
    this.ids[slot] = clientId;
    const a = entityKeyA(ChecksumEntity.Client, clientId);
    this.keyA[slot] = a;
    this.keyB[slot] = entityKeyB(a);
    return slot;
  }

  saveImage(image: StateImage): void {
    this.map.saveImage(image);
    // Client slots are handed out from 0 up and never freed: past `count`, all is zero.
    const n = this.count;
    pushUsed(image, this.ids, n * 8);
    pushUsed(image, this.highWaterMark, n * 8);
    pushUsed(image, this.recorded, n * 8);
    pushUsed(image, this.entries, n * this.window * entryWords * 8);
    pushUsed(image, this.keyA, n * 4);
    pushUsed(image, this.keyB, n * 4);
    image.counters.push(this.count, this.nodeCount);
  }

  /**
   * The cancel-on-disconnect marks (state layout 7 on): the engine puts them last of all its
   * arrays, so that layout 6's arrays are a prefix of the image and its snapshots still load
   * (without marks).
   */
  saveMarksImage(image: StateImage): void {
    pushUsed(image, this.covered, this.count * 8);
  }

  loadCounters(counters: readonly number[], at: number): number {
    const next = this.map.loadCounters(counters, at);
    this.count = counters[next];
    this.nodeCount = counters[next + 1];
    assert(this.count <= this.slotCountMax, 'idempotency: loaded slots fit');
    assert(this.nodeCount <= nodeClientIdCount, 'idempotency: loaded node ids fit');
    this.forgetRecent();
    this.loadTerms();
    return next + 2;
  }

  /** The cached terms of the loaded rings (restore only): every entry each ring still holds. */
  private loadTerms(): void {
    for (let slot = 0; slot < this.count; slot++) {
      const recorded = this.recorded[slot];
      for (let k = Math.max(0, recorded - this.window); k < recorded; k++) {
        this.entryTerms(slot, this.entryIndex(slot, k));
      }
    }
  }
}
