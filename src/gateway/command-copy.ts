/**
 * The gateway's one copy (STYLE rule 13): a verified Commands frame's 64-byte Command structs go
 * straight from the uWS message into claimed input-ring slots, before the message callback
 * returns (uWS reuses the message's memory). Each gets the session's client id written over
 * the frame's: a session speaks only for its own client.
 *
 *   frame:  header | CommandBatch ... [Command 0][Command 1] ... (span.start, span.count)
 *                                          │          │
 *   ring:                         [slot s: cmd 0][slot s+1: cmd 1] ... commit each, publish once
 */
import { commandSizeBytes } from '../constants.js';
import { CommandWord } from '../protocol/command-layout.js';
import type { BatchSpan } from '../protocol/frames.js';
import type { CommandSink } from './gateway.js';

/** 32-bit words of one command. */
const commandWords = commandSizeBytes >> 2;

/**
 * Copies the frame's commands into claimed slots of `sink` (after `hasRoom(span.count)`); the
 * caller publishes. Word by word through one view of the frame: the copy made a view per
 * command (for TypedArray.set), garbage at every command.
 */
export function copyCommands(
  sink: CommandSink,
  view: DataView,
  span: BatchSpan,
  clientId: number,
): void {
  const u32 = sink.ring.records.u32;
  const at = view.byteOffset + span.start;
  if ((at & 3) !== 0) return copyCommandsUnaligned(sink, view, span, clientId);
  const words = new Uint32Array(view.buffer, at, span.count * commandWords);
  for (let i = 0; i < span.count; i++) {
    const w = sink.claim();
    const f = i * commandWords;
    for (let k = 0; k < commandWords; k++) u32[w + k] = words[f + k];
    u32[w + CommandWord.clientId] = clientId;
    sink.commit();
  }
}

/** copyCommands for a vector at an odd offset (legal FlatBuffers, though our SDK aligns). */
function copyCommandsUnaligned(
  sink: CommandSink,
  view: DataView,
  span: BatchSpan,
  clientId: number,
): void {
  const frame = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const u8 = sink.ring.records.u8;
  const u32 = sink.ring.records.u32;
  for (let i = 0; i < span.count; i++) {
    const w = sink.claim();
    const from = span.start + i * commandSizeBytes;
    u8.set(frame.subarray(from, from + commandSizeBytes), w * 4);
    u32[w + CommandWord.clientId] = clientId;
    sink.commit();
  }
}
