/**
 * Encoding commands from named fields, for the SDK, tests, tools and bench set-up.
 * It takes an object, so it is not for a per-message hot path: the gateway copies client bytes
 * and never re-encodes.
 */
import { assert } from '../stdx/assert.js';
import { write64 } from '../stdx/records.js';
import { CommandWord, SequencedWord } from './command-layout.js';

export interface CommandFields {
  kind: number;
  clientId: number;
  clientSeq: number;
  flags?: number;
  tif?: number;
  stp?: number;
  account?: number;
  target?: number;
  ref?: number;
  makerFeeBps?: number;
  takerFeeBps?: number;
  price?: number;
  quantity?: number;
  aux?: number;
}

/** A command's fields besides its kind and its client's id and seq. */
export type CommandBody = Omit<CommandFields, 'kind' | 'clientId' | 'clientSeq'>;

// The client ids, kept here too for the many callers that write commands under them.
export {
  clientIdMax,
  disconnectClientId,
  isClientId,
  reservedClientId,
  timerClientId,
} from './client-ids.js';

/**
 * The next seq of one of the node's own client ids (timer, disconnect): past `last` (the one it
 * sent before) and past `floor` (the engine's last for that id, 0 when not known), and rising
 * with the wall clock in microseconds, so that a restart, which starts `last` at 0, stays above
 * what the journal holds.
 */
export function nextSystemSeq(last: number, floor = 0): number {
  return Math.max(last + 1, floor + 1, Math.floor(Date.now() * 1000));
}

/** The fields a command may carry besides its kind and its client's id and seq. */
export const commandFieldNames = [
  'account',
  'target',
  'ref',
  'price',
  'quantity',
  'aux',
  'flags',
  'tif',
  'stp',
  'makerFeeBps',
  'takerFeeBps',
] as const;

const fieldNameSet = new Set<string>(commandFieldNames);

/** Whether `name` is one of commandFieldNames (a Set: the SDK asks this of every field). */
export function isCommandFieldName(name: string): boolean {
  return fieldNameSet.has(name);
}

/**
 * The command's narrow fields and their largest values: written as is, a larger value would
 * spill into the next field (flags 0x102 would make the order IOC), so it is refused instead.
 */
const narrowFields = [
  ['ref', 0xffff_ffff],
  ['flags', 0xff],
  ['tif', 0xff],
  ['stp', 0xff],
  ['makerFeeBps', 0xffff],
  ['takerFeeBps', 0xffff],
] as const;

/** "tif: 0 to 255" for the first narrow field out of its range (or not whole), else null. */
export function narrowFieldError(f: CommandBody): string | null {
  // Each field read by name first: the SDK checks every command it sends.
  if (fits(f.ref, 0xffff_ffff) && fits(f.flags, 0xff) && fits(f.tif, 0xff) && fits(f.stp, 0xff)) {
    if (fits(f.makerFeeBps, 0xffff) && fits(f.takerFeeBps, 0xffff)) return null;
  }
  for (const [name, max] of narrowFields) if (!fits(f[name], max)) return `${name}: 0 to ${max}`;
  return null;
}

function fits(value: number | undefined, max: number): boolean {
  return value === undefined || (Number.isInteger(value) && value >= 0 && value <= max);
}

/**
 * Writes one 64-byte command at word `w` of `u32`. 64-bit fields take integers within
 * +-(2^53 - 1); out-of-range values are a caller bug (the engine would reject them anyway, and
 * tests that need such bytes write the words directly).
 */
export function writeCommand(u32: Uint32Array, w: number, f: CommandFields): void {
  writeCommandOf(u32, w, f.kind, f.clientId, f.clientSeq, f);
}

/**
 * The same, with the identity fields apart: the SDK writes each command from its caller's
 * fields without building a CommandFields object per command.
 */
export function writeCommandOf(
  u32: Uint32Array,
  w: number,
  kind: number,
  clientId: number,
  clientSeq: number,
  f: CommandBody,
): void {
  // Each field read once (the SDK writes every command it sends through here, with fields of
  // many shapes); the narrow ones checked as narrowFieldError does, on the values written.
  const flags = f.flags ?? 0;
  const tif = f.tif ?? 0;
  const stp = f.stp ?? 0;
  const ref = f.ref ?? 0;
  const makerFeeBps = f.makerFeeBps ?? 0;
  const takerFeeBps = f.takerFeeBps ?? 0;
  assert(
    (flags & 0xff) === flags &&
      (tif & 0xff) === tif &&
      (stp & 0xff) === stp &&
      ref >>> 0 === ref &&
      (makerFeeBps & 0xffff) === makerFeeBps &&
      (takerFeeBps & 0xffff) === takerFeeBps,
    'command-writer: narrow fields within their bytes',
  );
  write64(u32, w + CommandWord.clientSeq, checked(clientSeq));
  u32[w + CommandWord.clientId] = clientId;
  u32[w + CommandWord.bits] = (kind & 0xff) | (flags << 8) | (tif << 16) | (stp << 24);
  write64(u32, w + CommandWord.account, checked(f.account ?? 0));
  write64(u32, w + CommandWord.target, checked(f.target ?? 0));
  u32[w + CommandWord.ref] = ref;
  u32[w + CommandWord.feeBps] = makerFeeBps | (takerFeeBps << 16);
  write64(u32, w + CommandWord.price, checked(f.price ?? 0));
  write64(u32, w + CommandWord.quantity, checked(f.quantity ?? 0));
  write64(u32, w + CommandWord.aux, checked(f.aux ?? 0));
}

/** The producer side of the input ring, as far as writing one command needs it. */
export interface CommandSlots {
  readonly ring: { readonly records: { readonly u32: Uint32Array } };
  /** Word offset of the next free slot (after hasRoom(1)). */
  claim(): number;
  commit(): void;
}

/**
 * Writes the node's own command (a Tick, a cancel round) into the next slot and takes it; the
 * caller checked for room and publishes.
 */
export function putCommand(slots: CommandSlots, f: CommandFields): void {
  writeCommand(slots.ring.records.u32, slots.claim(), f);
  slots.commit();
}

/** Stamps the SequencedCommand at word `w` as the sequencer does: sequence and timestamp (us). */
export function stampCommand(
  u32: Uint32Array,
  w: number,
  sequence: number,
  timestamp: number,
): void {
  write64(u32, w + SequencedWord.sequence, checked(sequence));
  write64(u32, w + SequencedWord.timestamp, checked(timestamp));
}

function checked(value: number): number {
  assert(Number.isSafeInteger(value), 'command-writer: fields are safe integers');
  return value;
}
