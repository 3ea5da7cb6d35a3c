/**
 * Promotion of a hot standby. Its snapshotter is the one replica that follows the journal (it
 * serves reads and takes snapshots as it goes); the processor waits, idle. Applying every event
 * twice on a standby cost about a fifth of its CPU (perf, bench:replicated: the processor's
 * follower 706 samples, the snapshotter's 585, the member's main thread 1,530).
 *
 *   snapshotter                          its own channel                 processor
 *   follows; every second: ── 'touch' (sizes in use) ─────────────────► maps those pages in
 *   maps in its copy buffer
 *   promoted: applies the journal to its end, copies its state into its snapshot buffer
 *   Handover ──────────────────────────── 'handover' ─────────────────► restores the copy,
 *   takes no snapshot until ◄──────────── released word ◄─────────────── releases the buffer,
 *   'promoted' ──► node (main thread)                                    takes over
 *
 * The channel (a MessageChannel the node makes for each standby) keeps the state's buffer out
 * of the main thread: there it stayed reachable until that thread's next full collection (see
 * BourseNode.boot), while the two workers free it as they end.
 *
 * Both sides touch their pages ahead: a first access to a page costs a fault (12-27 µs on this
 * VM), and done at promotion the 7.5 MB of even an empty state's tables (their hash tables are
 * copied whole) added 60-90 ms to each takeover (`bourse drill`). The copy holds what is in use
 * of each array (StateImage.used), so it is a memcpy of that, twice, one per side.
 */
import type { MessagePort } from 'node:worker_threads';
import {
  followWaitMs,
  handoverTouchPagesPerTurn,
  handoverTouchPauseMs,
  verify,
} from '../constants.js';
import { assert } from '../stdx/assert.js';
import { scanChecksum } from '../engine/checksum-scan.js';
import type { StateImage } from '../stdx/state-image.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import type { SnapshotHeader } from '../journal/snapshot-store.js';
import { PageToucher } from './page-toucher.js';
import type { Replica } from './replay.js';

/** A replica's whole state, in a shared buffer, as it stood at the end of a journal batch. */
export interface Handover {
  type: 'handover';
  state: SharedArrayBuffer;
  /** Per array of the engine's image: where it starts in `state`, its bytes there, its size. */
  offsets: number[];
  used: number[];
  lengths: number[];
  counters: number[];
  /** Int32 word 0: the processor sets it to 1 once it no longer reads `state`. */
  released: SharedArrayBuffer;
  sequence: number;
  timestamp: number;
  batchHash: Uint8Array;
  /** Events the snapshotter applied since it loaded `snapshot` (or the journal's start). */
  eventsApplied: number;
  snapshot: SnapshotHeader | null;
  skipped: { sequence: number; reason: string }[];
}

/** From the snapshotter of a standby: the bytes in use of each array of its state. */
export interface TouchHint {
  type: 'touch';
  used: number[];
}

/**
 * Describes `replica`'s state, which `image` shows and whose `used` bytes of each array the
 * caller copied into `state` at `offsets`.
 */
export function describeHandover(
  replica: Replica,
  copied: { image: StateImage; used: number[] },
  state: SharedArrayBuffer,
  offsets: number[],
): Handover {
  const { image, used } = copied;
  return {
    type: 'handover',
    state,
    offsets,
    used,
    lengths: image.arrays.map((a) => a.byteLength),
    counters: [...image.counters],
    released: new SharedArrayBuffer(4),
    sequence: replica.sequence,
    timestamp: replica.timestamp,
    batchHash: Uint8Array.from(replica.batchHash),
    eventsApplied: replica.eventsApplied,
    snapshot: replica.snapshot,
    skipped: [...replica.skipped],
  };
}

/** Restores a handed-over state into `replica` (the processor's), then releases the buffer. */
export function takeHandover(replica: Replica, h: Handover): void {
  const arrays = h.used.map((n, i) => new Uint8Array(h.state, h.offsets[i], n));
  replica.engine.restore(arrays, h.counters, h.lengths);
  Atomics.store(new Int32Array(h.released), 0, 1);
  assert(replica.engine.position()[0] === h.sequence, 'handover: state at its sequence');
  // With BOURSE_VERIFY=1 (the failover test), the tables must add up to the running checksum
  // that came with them. Not by default: the walk took 64-106 ms (it visits whole tables), on
  // a takeover that takes 17-37 ms without it.
  if (verify) {
    const scanned = scanChecksum(replica.engine).hex();
    assert(scanned === replica.engine.checksum.hex(), 'handover: the state matches its checksum');
  }
  replica.sequence = h.sequence;
  replica.timestamp = h.timestamp;
  replica.batchHash = h.batchHash;
  replica.eventsApplied = h.eventsApplied;
  replica.snapshot = h.snapshot;
  replica.skipped.push(...h.skipped);
}

/** Touches the pages of `replica`'s arrays that a handover of `used` bytes would write. */
function touchHinted(replica: Replica, used: readonly number[]): PageToucher {
  const arrays = replica.engine.image().arrays;
  assert(used.length === arrays.length, 'handover: a size for every array');
  return new PageToucher(
    arrays.map((a, i) => ({
      bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      length: Math.min(used[i], a.byteLength),
      write: true,
    })),
  );
}

/**
 * The processor of a hot standby: touches the pages its snapshotter's hints name, and resolves
 * with the state it hands over on promotion, or null once the input ring is halted first (the
 * node stops unpromoted). Both come on `port`, which is closed on return.
 */
export async function awaitHandover(
  input: RingBuffer,
  replica: Replica,
  port: MessagePort,
): Promise<Handover | null> {
  let handover: Handover | null = null;
  let toucher = null as PageToucher | null; // set by messages (the compiler cannot see that)
  let arrived = (): void => {};
  const onMessage = (message: Handover | TouchHint): void => {
    if (message.type === 'touch') toucher = touchHinted(replica, message.used);
    else if (message.type === 'handover') handover = message;
    else return;
    arrived();
  };
  port.on('message', onMessage);
  try {
    while (handover === null && !input.halted()) {
      if (toucher !== null && !toucher.touch(handoverTouchPagesPerTurn)) toucher = null;
      const pause = toucher === null ? followWaitMs : handoverTouchPauseMs;
      await new Promise<void>((resolve) => {
        arrived = resolve;
        setTimeout(resolve, pause); // also keeps this worker's event loop alive
      });
    }
  } finally {
    port.off('message', onMessage);
    port.close();
  }
  return handover;
}
