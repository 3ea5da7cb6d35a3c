/**
 * Linked chains: commands from one client flagged Linked, closed by the first one without the
 * flag, succeed or fail together (as TigerBeetle's linked events do).
 *
 *   cmd A (Linked) ─┐
 *   cmd B (Linked)  ├─ buffered here until the chain closes, then decided as one unit
 *   cmd C          ─┘
 *
 * The engine decides the members in order against the state plus this overlay, which holds
 * what earlier members would change (balance deltas, supply deltas, pending transfers created or
 * resolved). Deciding never mutates state; if every member succeeds their events are applied,
 * otherwise they are dropped and every member is rejected. All memory is sized by
 * chainLengthMax at start-up; lookups scan the overlay linearly, which is cheap at that size and
 * costs nothing outside chains.
 */
import { assert as assertImport } from '../../stdx/assert.js';
import { RecordBuffer } from '../../stdx/records.js';
import { CommandWord, SequencedWord } from '../../protocol/command-layout.js';
import type { EngineConfig } from '../../constants.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const assert: typeof assertImport = assertImport;

export const enum PendingMark {
  Created = 1,
  Resolved = 2,
}

export class LinkedChain {
  /** Copies of the buffered SequencedCommands (ring slots are released once read). */
  readonly commands: RecordBuffer;
  readonly lengthMax: number;
  length = 0;
  /** Overlay in use: balance reads must add its deltas. */
  active = false;
  /**
   * The client whose chain outgrew the buffer (0: none): its commands are rejected up to the one
   * that closes the chain (Engine.refuseOverflowed).
   */
  overflowClient = 0;

  readonly balanceIndex: Int32Array;
  readonly availableDelta: Float64Array;
  readonly heldDelta: Float64Array;
  balanceCount = 0;
  readonly supplyDelta: Float64Array;

  readonly pendingId: Float64Array;
  readonly pendingMark: Uint8Array;
  readonly pendingDebitSlot: Int32Array;
  readonly pendingCreditSlot: Int32Array;
  readonly pendingAsset: Uint16Array;
  readonly pendingAmount: Float64Array;
  readonly pendingExpiresAt: Float64Array;
  pendingCount = 0;
  pendingCreated = 0;

  constructor(config: EngineConfig) {
    const n = config.chainLengthMax;
    this.lengthMax = n;
    this.commands = RecordBuffer.allocate(n, SequencedWord.size * 4);
    // A member changes at most three balances (post: debit available and held, credit).
    this.balanceIndex = new Int32Array(n * 3);
    this.availableDelta = new Float64Array(n * 3);
    this.heldDelta = new Float64Array(n * 3);
    this.supplyDelta = new Float64Array(config.assetCountMax);
    this.pendingId = new Float64Array(n);
    this.pendingMark = new Uint8Array(n);
    this.pendingDebitSlot = new Int32Array(n);
    this.pendingCreditSlot = new Int32Array(n);
    this.pendingAsset = new Uint16Array(n);
    this.pendingAmount = new Float64Array(n);
    this.pendingExpiresAt = new Float64Array(n);
  }

  /** Copies the SequencedCommand at word `w` of `cmd` into the buffer. */
  push(cmd: Uint32Array, w: number): void {
    assert(this.length < this.lengthMax, 'chain: buffer full');
    const at = this.length * SequencedWord.size;
    for (let i = 0; i < SequencedWord.size; i++) this.commands.u32[at + i] = cmd[w + i];
    this.length++;
  }

  clientId(): number {
    assert(this.length > 0, 'chain: empty');
    return this.commands.u32[CommandWord.clientId];
  }

  /** Empties the buffer and the overlay. */
  clear(): void {
    this.length = 0;
    this.active = false;
    this.overflowClient = 0;
    this.balanceCount = 0;
    this.pendingCount = 0;
    this.pendingCreated = 0;
    this.supplyDelta.fill(0);
  }

  /** Balance delta position of balance `index`, or -1. */
  findBalance(index: number): number {
    for (let i = 0; i < this.balanceCount; i++) if (this.balanceIndex[i] === index) return i;
    return -1;
  }

  addBalance(index: number, availableDelta: number, heldDelta: number): void {
    let at = this.findBalance(index);
    if (at === -1) {
      assert(this.balanceCount < this.balanceIndex.length, 'chain: overlay full');
      at = this.balanceCount++;
      this.balanceIndex[at] = index;
      this.availableDelta[at] = 0;
      this.heldDelta[at] = 0;
    }
    this.availableDelta[at] += availableDelta;
    this.heldDelta[at] += heldDelta;
  }

  /** Overlay position of pending transfer `id`, or -1. */
  findPending(id: number): number {
    for (let i = 0; i < this.pendingCount; i++) if (this.pendingId[i] === id) return i;
    return -1;
  }

  markPending(id: number, mark: PendingMark): number {
    let at = this.findPending(id);
    if (at === -1) {
      assert(this.pendingCount < this.pendingId.length, 'chain: pending overlay full');
      at = this.pendingCount++;
      this.pendingId[at] = id;
    }
    this.pendingMark[at] = mark;
    if (mark === PendingMark.Created) this.pendingCreated++;
    return at;
  }
}
