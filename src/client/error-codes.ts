/**
 * What a ClientError's `code` can be, by name. A client compared `error.code` with numbers
 * copied from docs/PROTOCOL.md (its Error codes and Close codes tables), since the SDK
 * exported neither: 3 and 4010 read alike in a catch block. The values come from the
 * protocol's own const enums, so they cannot drift from what the gateway sends.
 *
 * Codes from 5000 up are the SDK's own: no server sends them (close codes end at 4999, and the
 * protocol's Error codes are small numbers), so a code read here says who refused.
 */
import { CloseCode, FrameError } from '../protocol/frames.js';

export const ClientErrorCode = {
  /**
   * The server's input ring was full. The SDK sends such a frame again itself, so a call does
   * not fail with it; the SDK's own refusal past `queueMax` is QueueFull.
   */
  Busy: FrameError.Busy,
  TooManyCommands: FrameError.TooManyCommands,
  /** A command or stream the session's key does not allow: nothing of its frame applied. */
  Forbidden: FrameError.Forbidden,
  /** A subscription refused: unknown stream, bad parameter, or too many. */
  BadSubscription: FrameError.BadSubscription,
  /** Commands on a read-only session. */
  ReadOnly: FrameError.ReadOnly,
  /** A frame ending inside a linked chain. */
  ChainOpen: FrameError.ChainOpen,
  /** From older servers only: cancel on disconnect noted a session's accounts, at most 64. */
  TooManyAccounts: FrameError.TooManyAccounts,
  /** `close()` was called. */
  ClosedByClient: 1000,
  /** The node stopped, or a deposed primary stepped down, and no member took the session. */
  NodeStopping: 1001,
  /** The connection dropped, and no member took the session within reconnectWaitMs. */
  ConnectionLost: 1006,
  /** The node failed (its disk), or a journal stream's read failed. */
  NodeFailed: 1011,
  VersionUnsupported: CloseCode.VersionUnsupported,
  /** A frame before Hello, or no login within 5 s of opening (a client stalled in its login). */
  HelloRequired: CloseCode.HelloRequired,
  Malformed: CloseCode.Malformed,
  /** A frame of a type the server does not know (a client of a newer protocol). */
  UnknownType: CloseCode.UnknownType,
  /** A text frame: the protocol's frames are binary. */
  TextFrame: CloseCode.TextFrame,
  BadClientId: CloseCode.BadClientId,
  /**
   * Another session of this client id is open and answers (connect waited connectWaitMs for it
   * to go); or this session went silent and a new login of its client id took its place.
   */
  ClientIdInUse: CloseCode.ClientIdInUse,
  /** More than 4 MB unread, or too many refused frames. */
  SlowConsumer: CloseCode.SlowConsumer,
  TooManyReadSessions: CloseCode.TooManyReadSessions,
  /** The API key was missing, unknown, wrong, another client id's, or revoked. */
  Unauthorized: CloseCode.Unauthorized,
  /**
   * The SDK's own refusal, never the server's: `queueMax` submissions already waited for room
   * in flight, and nothing of this call was sent. Await earlier calls before making more.
   * (It was code 1, Busy, which the SDK retries itself when the server says it.)
   */
  QueueFull: 5000,
  /**
   * The SDK's own: the node refused the call's frame as Busy (its input ring full, or taking no
   * commands) for busyTimeoutMs on end, and the SDK gave up. Not applied: a Busy frame is
   * refused before it is sequenced, and so is every frame sent after it until it comes again.
   * Its client seqs go to the next calls, so the same command made again is applied once.
   */
  BusyTimeout: 5001,
} as const;
