/** The Error frame (docs/PROTOCOL.md, "Error codes"): one frame refused whole, the session on. */
import { FrameType, frameHeaderBytes, writeHeader, type FrameError } from '../protocol/frames.js';
import type { WebSocket } from './uws.js';

/** Refuses the frame of `requestId` with `code` and why (allocates: refusals are rare). */
export function sendError<S>(
  ws: WebSocket<S>,
  requestId: number,
  code: FrameError,
  text: string,
): void {
  const message = Buffer.from(text, 'utf8');
  const frame = new Uint8Array(frameHeaderBytes + 4 + message.byteLength);
  const view = new DataView(frame.buffer);
  writeHeader(view, 0, FrameType.Error, requestId);
  view.setUint16(frameHeaderBytes, code, true);
  frame.set(message, frameHeaderBytes + 4);
  ws.send(frame, true);
}
