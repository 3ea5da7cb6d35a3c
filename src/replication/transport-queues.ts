/** What the replication transport (udp-transport.ts) queues, keeps for NAKs and reassembles. */
import type { Append, Message } from './messages.js';
import type { PeerAddress } from './peer-addresses.js';

/** A datagram waiting in a send queue; `index` is its fragment's flag in `waiting`. */
export interface Datagram {
  to: PeerAddress;
  /** Header and payload in one buffer (a list made node build an array per send). */
  bytes: Buffer;
  waiting: Uint8Array | null;
  index: number;
  /** A resend's: its message's resend times (Retained.resentAt), set when it goes; else null. */
  resentAt: Float64Array | null;
  /** When it was queued (performance.now(), ms), if the transport times queue waits; else 0. */
  queuedAt: number;
}

/**
 * A sent message kept for NAKs: its datagrams as sealed (a resend sends them again, not signed
 * anew), their bytes, and a flag per fragment still in the send queue.
 */
export interface Retained {
  datagrams: readonly Buffer[];
  bytes: number;
  waiting: Uint8Array;
  /**
   * When each fragment was last resent (performance.now(), ms; 0: never), for the linger
   * (nak-pacing.ts); made on the message's first NAK (most are never NAKed).
   */
  resentAt: Float64Array | null;
}

/**
 * The last append with entries, encoded and cut into datagrams once. The primary sends the same
 * append to every standby that stands at the same place (the steady state): the others reuse
 * its bytes, id and datagrams instead of encoding and copying them again. Never to a peer that
 * already has this id: a resend must get a new one (receivers drop ids they completed).
 */
export interface SharedAppend {
  message: Append;
  bytes: Buffer;
  id: number;
  datagrams: Buffer[];
  to: Set<number>;
}

export interface Partial {
  from: number;
  /** The sender's start the message was sent in (a NAK names it). */
  start: number;
  id: number;
  chunks: (Buffer | undefined)[];
  missing: number;
  /** The highest fragment index received: fragments missing below it are lost. */
  highest: number;
  /** When a fragment last came (ms): none for udpReassemblyTimeoutMs drops the message. */
  lastAt: number;
  /** When it was last NAKed (ms; 0: never), NAKs since its last progress, and the next's time. */
  nakAt: number;
  naks: number;
  retryAt: number;
}

/** `s` when `m` is the same append and `to` has not had it, else null. */
export function sharedFor(s: SharedAppend | null, to: number, m: Message): SharedAppend | null {
  if (s === null || m.kind !== 'append' || s.to.has(to)) return null;
  const a = s.message;
  if (a.term !== m.term || a.from !== m.from || a.prevIndex !== m.prevIndex) return null;
  if (a.prevHash !== m.prevHash || a.commit !== m.commit || a.life !== m.life) return null;
  if (a.entries.length !== m.entries.length) return null;
  for (let i = 0; i < m.entries.length; i++) {
    const x = a.entries[i];
    const y = m.entries[i];
    if (x.payload !== y.payload || x.hash !== y.hash || x.prevHash !== y.prevHash) return null;
    if (x.first !== y.first || x.term !== y.term || x.count !== y.count) return null;
  }
  return s;
}
