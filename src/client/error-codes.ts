/**
 * What a ClientError's `code` can be, by name. A client compared `error.code` with numbers
 * copied from docs/PROTOCOL.md (its Error codes and Close codes tables), since the SDK
 * exported neither: 3 and 4010 read alike in a catch block. The values come from the
 * protocol's own const enums, so they cannot drift from what the gateway sends.
 */
import { CloseCode, FrameError } from '../protocol/frames.js';

export const ClientErrorCode = {
  /** The server's input ring was full (the SDK sends the frame again itself), or `queueMax`. */
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
  /** Cancel on disconnect: orders for more accounts than a session notes. */
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
  Malformed: CloseCode.Malformed,
  BadClientId: CloseCode.BadClientId,
  /** Another session of this client id is open. */
  ClientIdInUse: CloseCode.ClientIdInUse,
  /** More than 4 MB unread, or too many refused frames. */
  SlowConsumer: CloseCode.SlowConsumer,
  TooManyReadSessions: CloseCode.TooManyReadSessions,
  /** The API key was missing, unknown, wrong, another client id's, or revoked. */
  Unauthorized: CloseCode.Unauthorized,
} as const;
