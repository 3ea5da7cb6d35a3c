/**
 * Encodes a Commands frame: the 8-byte frame header, then a FlatBuffers CommandBatch whose
 * vector holds the 64-byte Command structs byte for byte. Reuses one builder (allocated for
 * `commandsMax` commands); the returned view is valid until the next call.
 */
import * as flatbuffers from 'flatbuffers';
import { CommandBatch } from './generated/bourse/protocol/command-batch.js';
import { commandSizeBytes } from '../constants.js';
import { FrameType, frameHeaderBytes, writeHeader } from './frames.js';

export class CommandBatchEncoder {
  private readonly builder: flatbuffers.Builder;
  private readonly frame: Uint8Array;

  constructor(commandsMax: number) {
    this.builder = new flatbuffers.Builder(commandsMax * commandSizeBytes + 256);
    this.frame = new Uint8Array(frameHeaderBytes + commandsMax * commandSizeBytes + 256);
  }

  /**
   * The frame for `count` commands laid out at the start of `commands` (64 bytes each), with
   * CommandsFlag bits `flags` in its header.
   */
  encode(commands: Uint8Array, count: number, requestId: number, flags = 0): Uint8Array {
    const b = this.builder;
    b.clear();
    const raw = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
    const bytes = count * commandSizeBytes;
    b.startVector(commandSizeBytes, count, 8);
    raw.space -= bytes;
    raw.bb.setPosition(raw.space);
    raw.bb.bytes().set(commands.subarray(0, bytes), raw.space);
    const vector = b.endVector();
    CommandBatch.startCommandBatch(b);
    CommandBatch.addCommands(b, vector);
    b.finish(CommandBatch.endCommandBatch(b));
    const body = b.asUint8Array();
    writeHeader(new DataView(this.frame.buffer), 0, FrameType.Commands, requestId, flags);
    this.frame.set(body, frameHeaderBytes);
    return this.frame.subarray(0, frameHeaderBytes + body.byteLength);
  }
}
