/**
 * The state checksum: a keyed linear sum over every field of the business state, kept up to date
 * by each mutation in O(1), readable after any event so that replicas can compare state.
 *
 *   checksum = sum over fields f of  key(f) * value(f)   (mod 2^32, in two independent lanes)
 *
 * A field is named by its entity (account id, order id, ...) and a field number, never by a
 * memory slot, so two replicas agree whatever their slot layout. Changing a field from `before`
 * to `after` adds key * (after - before). Each value enters as its two 32-bit words with their
 * own odd multipliers, so a difference of exactly 2^32 is still seen. The keys come from a
 * fixed hash: this detects divergence, it is not a defence against a forger (the journal's
 * SHA-256 chain is).
 */
import {
  fmix32 as fmix32Import,
  hashU53 as hashU53Import,
  mixNumber as mixNumberImport,
} from '../stdx/hash.js';

// Imports the hot path calls, held in module constants (why: src/engine/engine.ts).
const fmix32: typeof fmix32Import = fmix32Import;
const hashU53: typeof hashU53Import = hashU53Import;
const mixNumber: typeof mixNumberImport = mixNumberImport;

/** Entity salts keep fields of different tables apart. */
export const enum ChecksumEntity {
  Account = 0x1b873593,
  Asset = 0x2c1b3c6d,
  Pending = 0x297a2d39,
  Client = 0x3c6ef372,
  Instrument = 0x5851f42d,
  Order = 0x6a09e667,
}

/** First lane key of an entity. */
export function entityKeyA(entity: ChecksumEntity, id: number): number {
  return fmix32(hashU53(id) ^ entity);
}

/**
 * First lane key of a record whose other fields never change while it exists (a resting order's
 * price and side, a pending transfer's expiry and debit account): they are folded into the key,
 * so the record costs one field update (its quantity) instead of one per field.
 */
export function recordKeyA(
  entity: ChecksumEntity,
  id: number,
  fixed1: number,
  fixed2: number,
): number {
  return fmix32(mixNumber(mixNumber(hashU53(id) ^ entity, fixed1), fixed2));
}

/** Second lane key of an entity, independent of the first. */
export function entityKeyB(keyA: number): number {
  return fmix32(keyA ^ 0x27d4eb2f);
}

/** Key of field number `field` of an entity. */
export function fieldKey(entityKey: number, field: number): number {
  return Math.imul(entityKey ^ Math.imul(field + 1, 0x9e3779b1), 0x85ebca6b);
}

/** A non-negative safe integer's high word (value / 2^32, rounded down), as an int32. */
export function highWord(value: number): number {
  return Math.floor(value * 2.3283064365386963e-10) | 0;
}

/**
 * The term a value's words (lo, hi) add to a lane under field key `k`, as `addWords` adds it,
 * for a caller that gathers several changes of one record into one `addLanes`.
 */
export function laneTerm(k: number, lo: number, hi: number): number {
  return (Math.imul(k | 1, lo) + Math.imul((k ^ 0x5bd1e995) | 1, hi)) | 0;
}

// The methods call these through module constants, as importers do (engine.ts): inside its own
// module, an exported function is read through its cell all the same (~4 instructions a call).
const highWordOf: typeof highWord = highWord;
const fieldKeyOf: typeof fieldKey = fieldKey;

export class StateChecksum {
  /** Two 32-bit lanes, read together as one 64-bit checksum. */
  readonly lanes = new Int32Array(2);

  /** Records that field (keyA, keyB) changed from `before` to `after`. */
  change(keyA: number, keyB: number, before: number, after: number): void {
    const lo = ((after | 0) - (before | 0)) | 0;
    const hi = (highWordOf(after) - highWordOf(before)) | 0;
    this.addWords(keyA, keyB, lo, hi);
  }

  /** Records a field of entity keys (a, b) and number `field` changing value. */
  changeField(a: number, b: number, field: number, before: number, after: number): void {
    this.change(fieldKeyOf(a, field), fieldKeyOf(b, field), before, after);
  }

  /**
   * Adds (`sign` 1) or removes (`sign` -1) the field whose value is stored at `values[index]`.
   * Hot paths call this around a store instead of passing the old and new values: a double
   * argument to a call that is not inlined would be boxed, and the engine must not allocate.
   */
  stored(
    a: number,
    b: number,
    field: number,
    values: Float64Array,
    index: number,
    sign: number,
  ): void {
    // The value is split into words here: it must not cross a call that may not be inlined.
    const value = values[index];
    const lo = (sign * (value | 0)) | 0;
    const hi = (sign * highWordOf(value)) | 0;
    this.addWords(fieldKeyOf(a, field), fieldKeyOf(b, field), lo, hi);
  }

  /**
   * The value the next `write` stores. A double argument to a call that is not inlined would
   * be boxed (the engine must not allocate), so it is staged here instead.
   */
  readonly staged = new Float64Array(2);

  /**
   * Stores `staged[0]` at `values[index]`, the field (a, b) number `field`, and records the
   * change: the same sum as `stored` before and after the store, with each key computed once
   * (as `change` does, without passing the doubles through a call).
   */
  write(a: number, b: number, field: number, values: Float64Array, index: number): void {
    const before = values[index];
    const after = this.staged[0];
    values[index] = after;
    const lo = ((after | 0) - (before | 0)) | 0;
    const hi = (highWordOf(after) - highWordOf(before)) | 0;
    this.addWords(fieldKeyOf(a, field), fieldKeyOf(b, field), lo, hi);
  }

  /**
   * `write` of two adjacent fields at once: stores `staged[0]` at `values[index]` (field
   * `field`) and `staged[1]` at `values[index + 1]` (field `field + 1`), and records both
   * changes: the same lanes as two `write`s, from one call site (Accounts.hold says why).
   */
  writePair(a: number, b: number, field: number, values: Float64Array, index: number): void {
    const staged = this.staged;
    const before0 = values[index];
    const before1 = values[index + 1];
    const after0 = staged[0];
    const after1 = staged[1];
    values[index] = after0;
    values[index + 1] = after1;
    this.addWords(
      fieldKeyOf(a, field),
      fieldKeyOf(b, field),
      ((after0 | 0) - (before0 | 0)) | 0,
      (highWordOf(after0) - highWordOf(before0)) | 0,
    );
    this.addWords(
      fieldKeyOf(a, field + 1),
      fieldKeyOf(b, field + 1),
      ((after1 | 0) - (before1 | 0)) | 0,
      (highWordOf(after1) - highWordOf(before1)) | 0,
    );
  }

  /**
   * Adds the terms of a value's words (lo, hi) under field keys ka and kb to the two lanes. A
   * term is linear in each word modulo 2^32, so a change adds the term of the words'
   * differences, and a removal the term of the negated words.
   */
  private addWords(ka: number, kb: number, lo: number, hi: number): void {
    const lanes = this.lanes;
    lanes[0] = (lanes[0] + Math.imul(ka | 1, lo) + Math.imul((ka ^ 0x5bd1e995) | 1, hi)) | 0;
    lanes[1] = (lanes[1] + Math.imul(kb | 1, lo) + Math.imul((kb ^ 0x5bd1e995) | 1, hi)) | 0;
  }

  /** Adds sums of `laneTerm`s, one per lane: several changes for one read-modify-write. */
  addLanes(termA: number, termB: number): void {
    const lanes = this.lanes;
    lanes[0] = (lanes[0] + termA) | 0;
    lanes[1] = (lanes[1] + termB) | 0;
  }

  /** The checksum as 16 hex digits (allocates: for tools and tests, not the hot path). */
  hex(): string {
    const hi = (this.lanes[1] >>> 0).toString(16).padStart(8, '0');
    const lo = (this.lanes[0] >>> 0).toString(16).padStart(8, '0');
    return hi + lo;
  }

  equals(other: StateChecksum): boolean {
    return this.lanes[0] === other.lanes[0] && this.lanes[1] === other.lanes[1];
  }
}
