/**
 * The model's command fingerprint (src/engine/fingerprint.ts says why there is one), written
 * from the command's fields rather than read from its bytes: the words the Command struct
 * holds after client_seq and client_id, in order, folded with murmur3's steps (stdx/hash.ts,
 * shared as the fee rounding rule is: the model checks which words go in, not the hash).
 */
import { fmix32, mix32 } from '../../src/stdx/hash.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';
import type { ModelEvent } from './model-types.js';

/** The fingerprint as an int32, never 0 (0: not known). */
export function fingerprintOf(c: CommandFields): number {
  const bits =
    (c.kind & 0xff) | ((c.flags ?? 0) << 8) | ((c.tif ?? 0) << 16) | ((c.stp ?? 0) << 24);
  const fees = (c.makerFeeBps ?? 0) | ((c.takerFeeBps ?? 0) << 16);
  const words = [bits, ...words64(c.account), ...words64(c.target), c.ref ?? 0, fees];
  words.push(...words64(c.price), ...words64(c.quantity), ...words64(c.aux));
  let h = 0x2545f491;
  for (const word of words) h = mix32(h, word);
  h = fmix32(h ^ words.length);
  return h === 0 ? 1 : h;
}

/**
 * A recorded head event keeps it in other_id; InstrumentAdded (other_id: the quote asset) and
 * AllCanceled (other_id: where to go on) in release.
 */
export function fingerprintField(kind: number): 'otherId' | 'release' {
  const inRelease = kind === EventKind.InstrumentAdded || kind === EventKind.AllCanceled;
  return inRelease ? 'release' : 'otherId';
}

/** The fingerprint a recorded head event carries (0: written before they were kept). */
export function fingerprintIn(head: ModelEvent): number {
  return head[fingerprintField(head.kind)] | 0;
}

/** A signed 64-bit value as its two 32-bit words, low first. */
function words64(value = 0): number[] {
  const bits = BigInt.asUintN(64, BigInt(value));
  return [Number(bits & 0xffffffffn), Number(bits >> 32n)];
}
