/**
 * What the SDK checks of a frame from the server before it reads one: that the frame is as long
 * as its header and its counts say. A frame that is not (a proxy that corrupts frames, a server
 * of another build) would otherwise throw inside the socket's message handler, which takes the
 * application down, or make the SDK allocate what a garbage count names. The SDK drops such a
 * connection as a network failure and reconnects: what was not answered is sent again, and the
 * engine applies each command once.
 *
 *   Events   header | count u32 | pad u32 | [account f64: flagged Account] | count x 128 bytes
 *   Results  header | count u32 | pad u32 | count x 24-byte results
 *   Error    header | code u16 | pad u16 | reason (UTF-8)
 *   Book     header | body (bookFrameFits)
 */
import { EventsFlag, eventsOffset, FrameType, frameHeaderBytes } from '../protocol/frames.js';
import { eventSizeBytes } from '../constants.js';
import { ResultWord, resultSizeBytes } from '../protocol/result-layout.js';
import { EventWord } from '../protocol/event-layout.js';
import { bookFrameFits } from '../protocol/book-frame.js';
import { readEvent, type EventRecord } from '../protocol/event-reader.js';

export function frameFits(data: Buffer): boolean {
  if (data.length < frameHeaderBytes) return false;
  const type = data[0];
  if (type === FrameType.Events || type === FrameType.Results) {
    const events = type === FrameType.Events;
    const at = events ? eventsOffset(data.readUInt16LE(2)) : frameHeaderBytes + 8;
    if (data.length < at) return false;
    const size = events ? eventSizeBytes : resultSizeBytes;
    return data.readUInt32LE(frameHeaderBytes) * size <= data.length - at;
  }
  if (type === FrameType.Error) return data.length >= frameHeaderBytes + 4;
  if (type === FrameType.Book) return bookFrameFits(data);
  return true; // other types are not read
}

/**
 * The sequence of the last record of an Events or Results frame (one that fits), or `known`
 * when it has none or is of another type, whichever is higher: a sequence the server has made
 * durable, so the journal's head was at least that when it was sent.
 */
export function lastSequenceOf(data: Buffer, known: number): number {
  const type = data[0];
  if (type !== FrameType.Events && type !== FrameType.Results) return known;
  const count = data.readUInt32LE(frameHeaderBytes);
  if (count === 0) return known;
  const events = type === FrameType.Events;
  const size = events ? eventSizeBytes : resultSizeBytes;
  const word = events ? EventWord.sequence : ResultWord.sequence;
  // A frame that names its account has its events 8 bytes further (eventsOffset): read at
  // frameHeaderBytes + 8, the account's f64 bits were taken for a sequence (about 4.6e18).
  const first = events ? eventsOffset(data.readUInt16LE(2)) : frameHeaderBytes + 8;
  const at = first + (count - 1) * size + word * 4;
  const sequence = data.readUInt32LE(at) + data.readUInt32LE(at + 4) * 2 ** 32;
  return Math.max(known, sequence);
}

/** The events of an Events frame (one that fits), decoded. */
export function decodeEvents(data: Buffer): EventRecord[] {
  const count = data.readUInt32LE(frameHeaderBytes);
  const at = eventsOffset(data.readUInt16LE(2));
  const aligned = new Uint32Array(count * 32);
  new Uint8Array(aligned.buffer).set(data.subarray(at, at + count * 128));
  const events: EventRecord[] = [];
  for (let i = 0; i < count; i++) events.push(readEvent(aligned, i * 32));
  return events;
}

/** The account an account stream's Events frame was sent for; null when it names none. */
export function frameAccount(data: Buffer): number | null {
  if ((data.readUInt16LE(2) & EventsFlag.Account) === 0) return null;
  return data.readDoubleLE(frameHeaderBytes + 8);
}
